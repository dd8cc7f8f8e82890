/**
 * The one place that loads `@peculiar/x509` and the ASN.1 schemas: X.509 certificates, CSRs and
 * key containers. Imported only through `load` (internal/x509.ts), when a certificate, a CSR or a key
 * PEM is read or made: a run that finds nothing due never evaluates it. `@peculiar/x509`'s
 * dependency injection needs `reflect-metadata` evaluated first, and it signs and verifies with the
 * platform's WebCrypto.
 */
import "reflect-metadata"
import * as x509 from "@peculiar/x509"

x509.cryptoProvider.set(globalThis.crypto)

export { ECParameters, ECPrivateKey } from "@peculiar/asn1-ecc"
export { PrivateKey, PrivateKeyInfo } from "@peculiar/asn1-pkcs8"
export { AsnConvert, OctetString } from "@peculiar/asn1-schema"
export { AlgorithmIdentifier, AuthorityKeyIdentifier, Certificate } from "@peculiar/asn1-x509"
export { x509 }

/** OID of the subjectAltName extension (RFC 5280 §4.2.1.6). */
export const SUBJECT_ALT_NAME = "2.5.29.17"

/**
 * The general names of a subjectAltName extension (`type` is x509's: "dns", "ip", "email", "url",
 * …; IP addresses come out as text), or an empty list when there is none.
 */
export const subjectAltNames = (
  extension: x509.Extension | null
): ReadonlyArray<{ readonly type: string; readonly value: string }> =>
  extension === null
    ? []
    : new x509.SubjectAlternativeNameExtension(extension.rawData).names.items.map((name) => ({
      type: name.type,
      value: name.value
    }))
