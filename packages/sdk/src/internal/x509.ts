/**
 * The one place that loads `@peculiar/x509`: its dependency injection needs `reflect-metadata`
 * evaluated first, and it must sign and verify with the platform's WebCrypto.
 */
import "reflect-metadata"
import * as x509 from "@peculiar/x509"

x509.cryptoProvider.set(globalThis.crypto)

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
