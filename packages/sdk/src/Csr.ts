/**
 * PKCS#10 certificate signing requests for the finalize step (RFC 8555 §7.4).
 *
 * @since 0.1.0
 */
import type { Pkcs10CertificateRequest } from "@peculiar/x509"
import * as Arr from "effect/Array"
import * as Effect from "effect/Effect"
import * as jose from "jose"
import { CsrError } from "./AcmeError.js"
import type { CertificateKey } from "./CertificateKey.js"
import * as Identifier from "./Identifier.js"
import { signatureParams } from "./internal/keys.js"
import * as X509 from "./internal/x509.js"

/**
 * A CSR with the identifiers it requests.
 *
 * @since 0.1.0
 * @category models
 */
export interface Csr {
  readonly der: Uint8Array
  /** `-----BEGIN CERTIFICATE REQUEST-----`, `\n` line ends, trailing newline. */
  readonly pem: string
  readonly identifiers: ReadonlyArray<Identifier.Identifier>
  /** The DER `subjectPublicKeyInfo` of the key the CSR was made with (for `Certificate.hasPublicKeyOf`). */
  readonly publicKeyInfo?: Uint8Array | undefined
}

const describe = (error: unknown): string => error instanceof Error ? error.message : String(error)

const MAX_COMMON_NAME = 64

const toCsr = (
  { x509 }: X509.Module,
  request: Pkcs10CertificateRequest,
  identifiers: ReadonlyArray<Identifier.Identifier>
): Csr => ({
  der: new Uint8Array(request.rawData),
  pem: `${x509.PemConverter.encode(request.rawData, x509.PemConverter.CertificateRequestTag)}\n`,
  identifiers,
  publicKeyInfo: new Uint8Array(request.publicKey.rawData)
})

/**
 * Builds and signs a CSR naming every identifier as a subjectAltName (dNSName for `dns`, iPAddress
 * for `ip`, IPv4 and IPv6). The subject is `CN=<first DNS identifier>` when that name has at most
 * 64 characters, else empty (the subjectAltName extension is then marked critical, RFC 5280
 * §4.2.1.6). The signature is ECDSA SHA-256/SHA-384 or RSASSA-PKCS1-v1_5 SHA-256 after the key.
 *
 * @since 0.1.0
 * @category constructors
 */
export const create = (options: {
  readonly key: CertificateKey
  readonly identifiers: ReadonlyArray<Identifier.Identifier>
}): Effect.Effect<Csr, CsrError> =>
  Effect.gen(function*() {
    const { identifiers, key } = options
    if (identifiers.length === 0) {
      return yield* new CsrError({ reason: "NoIdentifiers", description: "a CSR needs at least one identifier" })
    }
    const names: Array<{ type: "dns" | "ip"; value: string }> = []
    for (const identifier of identifiers) {
      if (identifier.type !== "dns" && identifier.type !== "ip") {
        return yield* new CsrError({
          reason: "Create",
          description: `identifier type "${identifier.type}" cannot be put in a certificate (${
            Identifier.format(identifier)
          })`
        })
      }
      names.push({ type: identifier.type, value: identifier.value })
    }
    const commonName = identifiers.find((identifier) => identifier.type === "dns")?.value
    const subject = commonName !== undefined && commonName.length <= MAX_COMMON_NAME ? commonName : undefined
    const asn1 = yield* X509.load
    const { x509 } = asn1
    const request = yield* Effect.tryPromise({
      try: () =>
        x509.Pkcs10CertificateRequestGenerator.create({
          ...(subject === undefined ? {} : { name: [{ CN: [subject] }] }),
          keys: { privateKey: key.privateKey, publicKey: key.publicKey },
          signingAlgorithm: signatureParams(key.algorithm),
          extensions: [new x509.SubjectAlternativeNameExtension(names, subject === undefined)]
        }),
      catch: (error) => new CsrError({ reason: "Create", description: describe(error) })
    })
    return toCsr(asn1, request, identifiers)
  }).pipe(Effect.withSpan("Csr.create"))

/**
 * Reads a CSR the caller supplies: checks its signature and collects its identifiers, the
 * subjectAltName entries (dNSName, iPAddress) plus a subject CN not among them. Names are
 * normalised as {@link Identifier.parse} does.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromPem = (pem: string): Effect.Effect<Csr, CsrError> =>
  Effect.gen(function*() {
    const parseError = (description: string) => new CsrError({ reason: "Parse", description })
    const asn1 = yield* X509.load
    const { SUBJECT_ALT_NAME, subjectAltNames, x509 } = asn1
    const request = yield* Effect.try({
      try: () => new x509.Pkcs10CertificateRequest(pem),
      catch: (error) => parseError(`not a PKCS#10 certificate request (${describe(error)})`)
    })
    const valid = yield* Effect.tryPromise({
      try: () => request.verify(),
      catch: (error) => parseError(`cannot check the signature (${describe(error)})`)
    })
    if (!valid) return yield* parseError("the signature does not verify with the CSR's public key")
    const sans = yield* Effect.try({
      try: () => subjectAltNames(request.getExtension(SUBJECT_ALT_NAME)),
      catch: (error) => parseError(`unreadable subjectAltName extension (${describe(error)})`)
    })
    const unsupported = sans.find((name) => name.type !== "dns" && name.type !== "ip")
    if (unsupported !== undefined) {
      return yield* parseError(
        `subjectAltName ${unsupported.type}:${unsupported.value} is neither a DNS name nor an IP address`
      )
    }
    const commonNames = yield* Effect.try({
      try: () => request.subjectName.getField("CN"),
      catch: (error) => parseError(`unreadable subject (${describe(error)})`)
    })
    const identifiers = yield* Effect.forEach(
      [...sans.map((name) => name.value), ...commonNames],
      (value) =>
        Identifier.parse(value).pipe(
          Effect.mapError(() => parseError(`"${value}" is neither a valid DNS name nor an IP address`))
        )
    )
    const unique = Arr.dedupeWith(identifiers, Identifier.equals)
    if (!Arr.isNonEmptyReadonlyArray(unique)) {
      return yield* new CsrError({ reason: "NoIdentifiers", description: "the CSR names no DNS name or IP address" })
    }
    return toCsr(asn1, request, unique)
  }).pipe(Effect.withSpan("Csr.fromPem"))

/**
 * The base64url DER of a CSR: the `csr` member of the finalize payload.
 *
 * @since 0.1.0
 * @category combinators
 */
export const toBase64Url = (csr: Csr): string => jose.base64url.encode(csr.der)
