/**
 * What to serve for each challenge type: http-01 and dns-01 (RFC 8555 §8.3, §8.4), dns-account-01
 * (draft-ietf-acme-dns-account-label) and tls-alpn-01 (RFC 8737), for DNS and IP identifiers
 * (RFC 8738).
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
 * Which revision of the dns-account-01 draft decides the record name:
 *
 * - `"dns-account-label"` (the default): draft-ietf-acme-dns-account-label-00 to -03, the current
 *   text: `_<label>._acme-challenge.<name>`, for a name and for a wildcard alike.
 * - `"scoped-dns-challenges"`: its predecessor draft-ietf-acme-scoped-dns-challenges-01 (August
 *   2024), which CAs built on it still validate (Pebble 2.6 and 2.7, as Debian trixie ships them):
 *   `_<label>._acme-host-challenge.<name>`, or `_<label>._acme-wildcard-challenge.<name>` for the
 *   authorization of a wildcard.
 *
 * The label and the TXT value are the same in both.
 *
 * @since 0.1.0
 * @category models
 */
export type DnsAccountDraft = "dns-account-label" | "scoped-dns-challenges"

const base32Alphabet = "abcdefghijklmnopqrstuvwxyz234567"

/** RFC 4648 §6 base32, lower case, without padding (the input here is 10 bytes: 16 characters, none needed). */
const base32 = (bytes: Uint8Array): string => {
  let text = ""
  let buffer = 0
  let bits = 0
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte
    bits += 8
    while (bits >= 5) {
      text += base32Alphabet[(buffer >>> (bits - 5)) & 31]
      bits -= 5
    }
    buffer &= (1 << bits) - 1
  }
  return bits > 0 ? text + base32Alphabet[(buffer << (5 - bits)) & 31] : text
}

/**
 * The account's label for dns-account-01: `base32(SHA-256(account URL)[0:10])`, in lower case
 * (DNS names are case-insensitive; the draft's example is lower case, and so is Pebble's), without
 * the leading `_`. The account URL is the `Location` of newAccount (RFC 8555 §7.3), as the client
 * got it. draft-ietf-acme-dns-account-label-03, §3 ("DNS-ACCOUNT-01 Challenge", "Challenge
 * Fulfillment"): `"_" || base32(SHA-256(<ACCOUNT_URL>)[0:10]) || "._acme-challenge"` prepended to
 * the name being validated. For `https://example.com/acme/acct/ExampleAccount` it is
 * `ujmmovf2vn55tgye`, the draft's own example.
 *
 * @since 0.1.0
 * @category combinators
 */
export const dnsAccountLabel = (accountUrl: string): Effect.Effect<string> =>
  Effect.map(sha256(accountUrl), (digest) => base32(digest.subarray(0, 10)))

/**
 * The name of the dns-account-01 TXT record for an identifier and the account answering it (see
 * {@link DnsAccountDraft} for `draft`). A wildcard is validated at its base name, like dns-01: an
 * identifier written `*.example.org`, or `wildcard: true` (the authorization's field, whose
 * identifier is the base name, RFC 8555 §7.1.4), says it is one. The TXT value is
 * {@link dns01TxtValue}, as for dns-01.
 *
 * @since 0.1.0
 * @category combinators
 */
export const dnsAccount01RecordName = (options: {
  readonly identifier: Identifier
  readonly accountUrl: string
  readonly wildcard?: boolean | undefined
  readonly draft?: DnsAccountDraft | undefined
}): Effect.Effect<string> =>
  Effect.map(dnsAccountLabel(options.accountUrl), (label) => {
    const written = options.identifier.value
    const wildcard = options.wildcard === true || written.startsWith("*.")
    const base = written.startsWith("*.") ? written.slice(2) : written
    const challenge = options.draft === "scoped-dns-challenges"
      ? `_acme-${wildcard ? "wildcard" : "host"}-challenge`
      : "_acme-challenge"
    return `_${label}.${challenge}.${base}`
  })

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
