/**
 * Reading issued certificates and chains (RFC 8555 §7.4.2), and their ARI CertID (RFC 9773 §4.1).
 *
 * @since 0.1.0
 */
import * as Arr from "effect/Array"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as jose from "jose"
import { CertificateError } from "./AcmeError.js"
import * as Identifier from "./Identifier.js"
import * as X509 from "./internal/x509.js"

/**
 * A parsed X.509 certificate.
 *
 * @since 0.1.0
 * @category models
 */
export interface Certificate {
  /** `-----BEGIN CERTIFICATE-----`, `\n` line ends, trailing newline. */
  readonly pem: string
  readonly der: Uint8Array
  /** The serial number as `openssl x509 -serial` prints it: upper-case hex of its bytes, a leading zero kept (`0E5DA414B8A4D49E`). */
  readonly serialNumber: string
  /** The subject DN as text, e.g. `CN=example.org`. */
  readonly subject: string
  /** The issuer DN as text, e.g. `CN=R11, O=Let's Encrypt, C=US`. */
  readonly issuer: string
  readonly subjectCommonName: string | undefined
  readonly issuerCommonName: string | undefined
  readonly notBefore: DateTime.Utc
  readonly notAfter: DateTime.Utc
  /** The subjectAltName entries that are identifiers (dNSName, iPAddress), normalised. */
  readonly identifiers: ReadonlyArray<Identifier.Identifier>
  /** The keyIdentifier of the authorityKeyIdentifier extension, if any. */
  readonly authorityKeyIdentifier: Uint8Array | undefined
  /**
   * The DER `subjectPublicKeyInfo`, read when the certificate was parsed (so that comparing keys
   * needs no second parse); absent from a record built elsewhere, which {@link hasPublicKeyOf} then parses.
   */
  readonly publicKeyInfo?: Uint8Array | undefined
}

/**
 * A certificate chain as the CA sends it: the leaf first, then its issuers.
 *
 * @since 0.1.0
 * @category models
 */
export interface Chain {
  /** The whole chain, normalised PEM blocks. */
  readonly pem: string
  readonly certificates: readonly [Certificate, ...Array<Certificate>]
}

const describe = (error: unknown): string => error instanceof Error ? error.message : String(error)

const parseError = (description: string) => new CertificateError({ reason: "Parse", description })

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g

/**
 * The `CERTIFICATE` PEM blocks of a text (other blocks and text between them are dropped), each
 * normalised: `\n` line ends, no blank lines or surrounding spaces, a trailing newline.
 *
 * @since 0.1.0
 * @category combinators
 */
export const splitPem = (text: string): ReadonlyArray<string> =>
  Array.from(text.matchAll(CERTIFICATE_BLOCK), (match) =>
    match[0]
      .split(/\r?\n|\r/)
      .map((line) => line.trim())
      .filter((line) => line.length > 0)
      .join("\n") + "\n")

const AUTHORITY_KEY_IDENTIFIER = "2.5.29.35"

const toIdentifier = (name: { readonly type: string; readonly value: string }): Effect.Effect<
  Option.Option<Identifier.Identifier>
> => {
  if (name.type === "dns") {
    return Effect.succeed(Option.some(Identifier.dns(name.value.toLowerCase())))
  }
  if (name.type === "ip") {
    // canonical text (IPv6 compressed, lower case); a value Identifier cannot read stays as it is
    return Identifier.parse(name.value).pipe(
      Effect.map((identifier) => identifier.type === "ip" ? identifier : Identifier.ip(name.value)),
      Effect.orElseSucceed(() => Identifier.ip(name.value)),
      Effect.map(Option.some)
    )
  }
  return Effect.succeed(Option.none())
}

const fromDer = Effect.fnUntraced(function*(der: Uint8Array, pem: string | undefined) {
  const { AsnConvert, AuthorityKeyIdentifier, SUBJECT_ALT_NAME, subjectAltNames, x509 } = yield* X509.load
  const certificate = yield* Effect.try({
    try: () => new x509.X509Certificate(der),
    catch: (error) => parseError(`not an X.509 certificate (${describe(error)})`)
  })
  const fields = yield* Effect.try({
    try: () => {
      const aki = certificate.getExtension(AUTHORITY_KEY_IDENTIFIER)
      return {
        // the CA's bytes as openssl prints them: upper-case hex, whole bytes (a leading zero kept)
        serialNumber: certificate.serialNumber.toUpperCase(),
        publicKeyInfo: new Uint8Array(certificate.publicKey.rawData),
        subject: certificate.subject,
        issuer: certificate.issuer,
        subjectCommonName: certificate.subjectName.getField("CN")[0],
        issuerCommonName: certificate.issuerName.getField("CN")[0],
        notBefore: DateTime.unsafeFromDate(certificate.notBefore),
        notAfter: DateTime.unsafeFromDate(certificate.notAfter),
        sans: subjectAltNames(certificate.getExtension(SUBJECT_ALT_NAME)),
        authorityKeyIdentifier: aki === null
          ? undefined
          : AsnConvert.parse(aki.value, AuthorityKeyIdentifier).keyIdentifier
      }
    },
    catch: (error) => parseError(`unreadable certificate field (${describe(error)})`)
  })
  const identifiers = Arr.getSomes(yield* Effect.forEach(fields.sans, toIdentifier))
  return {
    pem: pem ?? `${x509.PemConverter.encode(der, x509.PemConverter.CertificateTag)}\n`,
    der,
    serialNumber: fields.serialNumber,
    subject: fields.subject,
    issuer: fields.issuer,
    subjectCommonName: fields.subjectCommonName,
    issuerCommonName: fields.issuerCommonName,
    notBefore: fields.notBefore,
    notAfter: fields.notAfter,
    identifiers,
    authorityKeyIdentifier: fields.authorityKeyIdentifier === undefined
      ? undefined
      : new Uint8Array(fields.authorityKeyIdentifier.buffer),
    publicKeyInfo: fields.publicKeyInfo
  } satisfies Certificate
})

const parsePemBlock = (block: string): Effect.Effect<Certificate, CertificateError> =>
  Effect.flatMap(X509.load, ({ x509 }) =>
    Effect.try({
      try: () => new Uint8Array(x509.PemConverter.decodeFirst(block)),
      catch: (error) => parseError(`malformed PEM (${describe(error)})`)
    })).pipe(Effect.flatMap((der) => fromDer(der, block)))

/**
 * Parses one certificate: DER bytes, or a text whose first `CERTIFICATE` PEM block is read.
 *
 * @since 0.1.0
 * @category constructors
 */
export const parse = (pemOrDer: string | Uint8Array): Effect.Effect<Certificate, CertificateError> => {
  if (typeof pemOrDer !== "string") return fromDer(new Uint8Array(pemOrDer), undefined)
  const block = splitPem(pemOrDer)[0]
  return block === undefined
    ? Effect.fail(parseError("no -----BEGIN CERTIFICATE----- block found"))
    : parsePemBlock(block)
}

/**
 * Parses every `CERTIFICATE` block of a PEM text, the leaf first. Fails with `EmptyChain` when
 * there is none. Nothing is remembered between calls: a caller that needs a chain twice keeps it
 * (the renewal pipeline carries the chain download parsed to store).
 *
 * @since 0.1.0
 * @category constructors
 */
export const parseChain = (pem: string): Effect.Effect<Chain, CertificateError> =>
  Effect.suspend(() => {
    const blocks = splitPem(pem)
    return Effect.forEach(blocks, parsePemBlock).pipe(
      Effect.flatMap((certificates) =>
        Arr.isNonEmptyReadonlyArray(certificates)
          ? Effect.succeed({ pem: blocks.join(""), certificates })
          : Effect.fail(
            new CertificateError({ reason: "EmptyChain", description: "the text holds no -----BEGIN CERTIFICATE----- block" })
          )
      )
    )
  }).pipe(Effect.withSpan("Certificate.parseChain"))

/**
 * The end-entity certificate of a chain.
 *
 * @since 0.1.0
 * @category combinators
 */
export const leaf = (chain: Chain): Certificate => chain.certificates[0]

/**
 * Every certificate but the leaf, as PEM: certbot's `chain.pem`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const issuersPem = (chain: Chain): string =>
  chain.certificates.slice(1).map((certificate) => certificate.pem).join("")

/**
 * The issuer CN of the last certificate of the chain: the name certbot's `--preferred-chain`
 * compares against (the root the chain leads to, even when the root itself is not included).
 *
 * @since 0.1.0
 * @category combinators
 */
export const topIssuerName = (chain: Chain): string | undefined => Arr.lastNonEmpty(chain.certificates).issuerCommonName

/**
 * The ARI certificate identifier (RFC 9773 §4.1): base64url of the authorityKeyIdentifier's
 * keyIdentifier, ".", base64url of the serial number's DER INTEGER content bytes (with the leading
 * zero byte when the high bit is set). Fails with `MissingExtension` without an AKI keyIdentifier.
 *
 * @since 0.1.0
 * @category combinators
 */
export const certId = (certificate: Certificate): Effect.Effect<string, CertificateError> => {
  const aki = certificate.authorityKeyIdentifier
  if (aki === undefined) {
    return Effect.fail(
      new CertificateError({
        reason: "MissingExtension",
        description: `certificate ${certificate.serialNumber} has no authorityKeyIdentifier keyIdentifier, needed for ARI`
      })
    )
  }
  const serial = Option.match(serialFromHex(certificate), {
    onSome: Effect.succeed,
    onNone: () =>
      Effect.flatMap(X509.load, (asn1) =>
        Effect.try({
          try: () => new Uint8Array(asn1.AsnConvert.parse(certificate.der, asn1.Certificate).tbsCertificate.serialNumber),
          catch: (error) => parseError(`cannot read the serial number (${describe(error)})`)
        }))
  })
  return Effect.map(serial, (bytes) => `${jose.base64url.encode(aki)}.${jose.base64url.encode(bytes)}`)
}

/**
 * The serial number's INTEGER content bytes without parsing the certificate again: the bytes of
 * `serialNumber` (which drops the 0x00 that keeps a serial with its top bit set positive), that
 * byte put back, and checked against the DER itself (the serial's tag, length and bytes come right
 * after the version, within the first bytes). None when they are not found there (a serial not
 * encoded as DER requires), so that the caller parses.
 */
const serialFromHex = (certificate: Certificate): Option.Option<Uint8Array> => {
  const hex = certificate.serialNumber
  if (hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9A-Fa-f]+$/.test(hex)) return Option.none()
  const digits = Array.from({ length: hex.length / 2 }, (_, i) => Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16))
  const bytes = new Uint8Array((digits[0] ?? 0) > 0x7f ? [0, ...digits] : digits)
  const tlv = [0x02, bytes.length, ...bytes]
  const { der } = certificate
  // outer SEQUENCE and TBS SEQUENCE headers (up to 4 bytes each) and the [0] version (5 bytes)
  for (let at = 0; at <= Math.min(16, der.length - tlv.length); at++) {
    if (tlv.every((byte, i) => der[at + i] === byte)) return Option.some(bytes)
  }
  return Option.none()
}

/**
 * Whether a certificate carries the public key of a CSR (or of any other holder of a DER-encoded
 * `subjectPublicKeyInfo`): the check that an issued certificate belongs with the key about to be
 * installed next to it.
 *
 * @since 0.1.0
 * @category combinators
 */
export const hasPublicKeyOf = (
  certificate: Certificate,
  request: { readonly der: Uint8Array; readonly publicKeyInfo?: Uint8Array | undefined }
): Effect.Effect<boolean, CertificateError> =>
  Effect.flatMap(X509.load, ({ x509 }) =>
  Effect.try({
    try: () => {
      // the keys read when each was parsed or made; parsed here only for a record built elsewhere
      const mine = certificate.publicKeyInfo ?? new Uint8Array(new x509.X509Certificate(certificate.der).publicKey.rawData)
      const theirs = request.publicKeyInfo ??
        new Uint8Array(new x509.Pkcs10CertificateRequest(request.der).publicKey.rawData)
      return mine.length === theirs.length && mine.every((byte, index) => byte === theirs[index])
    },
    catch: (error) => new CertificateError({ reason: "Parse", description: `cannot compare public keys: ${String(error)}` })
  }))
