/**
 * What to serve for each challenge type: http-01 and dns-01 (RFC 8555 §8.3, §8.4) and tls-alpn-01
 * (RFC 8737), for DNS and IP identifiers (RFC 8738).
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as jose from "jose"
import { CertificateError, type KeyError } from "./AcmeError.js"
import * as CertificateKey from "./CertificateKey.js"
import type { Identifier } from "./Identifier.js"
import { signatureParams } from "./internal/keys.js"
import * as X509 from "./internal/x509.js"

/**
 * The key authorization of a challenge (RFC 8555 §8.1): `token "." thumbprint`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const keyAuthorization = (token: string, accountKey: { readonly thumbprint: string }): string =>
  `${token}.${accountKey.thumbprint}`

/**
 * The path an http-01 challenge is fetched from; serve the key authorization there as
 * `text/plain` (or `application/octet-stream`).
 *
 * @since 0.1.0
 * @category combinators
 */
export const http01Path = (token: string): string => `/.well-known/acme-challenge/${token}`

/**
 * The name of the dns-01 TXT record: `_acme-challenge.` followed by the identifier without a
 * leading `*.` (a wildcard is validated at its base name).
 *
 * @since 0.1.0
 * @category combinators
 */
export const dns01RecordName = (identifier: Identifier): string =>
  `_acme-challenge.${identifier.value.startsWith("*.") ? identifier.value.slice(2) : identifier.value}`

const sha256 = (text: string): Effect.Effect<Uint8Array> =>
  Effect.promise(() => globalThis.crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))).pipe(
    Effect.map((digest) => new Uint8Array(digest))
  )

/**
 * The dns-01 TXT record value: base64url(SHA-256(key authorization)).
 *
 * @since 0.1.0
 * @category combinators
 */
export const dns01TxtValue = (keyAuthorization: string): Effect.Effect<string> =>
  Effect.map(sha256(keyAuthorization), (digest) => jose.base64url.encode(digest))

/**
 * The OID of the acmeIdentifier extension (id-pe-acmeIdentifier, RFC 8737 §6.1).
 *
 * @since 0.1.0
 * @category models
 */
export const TLS_ALPN_01_OID = "1.3.6.1.5.5.7.1.31"

/**
 * The value of the acmeIdentifier extension (RFC 8737 §3): the DER of an
 * `OCTET STRING (SIZE (32))` holding SHA-256(key authorization), i.e. `0x04 0x20` and the digest.
 *
 * @since 0.1.0
 * @category combinators
 */
export const tlsAlpn01ExtensionValue = (keyAuthorization: string): Effect.Effect<Uint8Array> =>
  Effect.zipWith(
    sha256(keyAuthorization),
    X509.load,
    (digest, { AsnConvert, OctetString }) => new Uint8Array(AsnConvert.serialize(new OctetString(digest)))
  )

const describe = (error: unknown): string => error instanceof Error ? error.message : String(error)

const createError = (error: KeyError | string) =>
  new CertificateError({ reason: "Create", description: typeof error === "string" ? error : error.message })

/**
 * The self-signed certificate to present for a tls-alpn-01 challenge (RFC 8737 §3), on a fresh
 * EC P-256 key: subjectAltName = the identifier (dNSName, or iPAddress for `ip`), and the critical
 * acmeIdentifier extension holding SHA-256(key authorization). Valid from one hour ago for seven
 * days (from Effect's `Clock`). Serve it for TLS connections negotiating the `acme-tls/1` ALPN
 * protocol.
 *
 * @since 0.1.0
 * @category constructors
 */
export const tlsAlpn01Certificate = (options: {
  readonly identifier: Identifier
  readonly keyAuthorization: string
}): Effect.Effect<{ readonly certificatePem: string; readonly privateKeyPem: string }, CertificateError> =>
  Effect.gen(function*() {
    const { identifier } = options
    const type = identifier.type === "dns" || identifier.type === "ip" ? identifier.type : undefined
    if (type === undefined) {
      return yield* createError(`identifier type "${identifier.type}" cannot be validated with tls-alpn-01`)
    }
    const key = yield* Effect.mapError(CertificateKey.generate("ec-p256"), createError)
    const privateKeyPem = yield* Effect.mapError(CertificateKey.toPem(key), createError)
    const value = yield* tlsAlpn01ExtensionValue(options.keyAuthorization)
    const now = yield* DateTime.now
    const { x509 } = yield* X509.load
    const serial = globalThis.crypto.getRandomValues(new Uint8Array(16))
    serial[0] = (serial[0] ?? 0) & 0x7f | 0x01
    const certificate = yield* Effect.tryPromise({
      try: () =>
        x509.X509CertificateGenerator.createSelfSigned({
          serialNumber: Encoding.encodeHex(serial),
          name: [{ CN: [identifier.value.length <= 64 ? identifier.value : "acme-tls-alpn-01"] }],
          notBefore: DateTime.toDateUtc(DateTime.subtract(now, { hours: 1 })),
          notAfter: DateTime.toDateUtc(DateTime.add(now, { days: 7 })),
          keys: { privateKey: key.privateKey, publicKey: key.publicKey },
          signingAlgorithm: signatureParams(key.algorithm),
          extensions: [
            new x509.SubjectAlternativeNameExtension([{ type, value: identifier.value }], false),
            new x509.Extension(TLS_ALPN_01_OID, true, value)
          ]
        }),
      catch: (error) => createError(describe(error))
    })
    return {
      certificatePem: `${x509.PemConverter.encode(certificate.rawData, x509.PemConverter.CertificateTag)}\n`,
      privateKeyPem
    }
  }).pipe(Effect.withSpan("ChallengeResponse.tlsAlpn01Certificate"))
