/**
 * The contract of the `Pebble` service: its options, what it tells about the running CA, and the
 * management calls. `Pebble` re-exports all of it; `internal/pebble.ts` builds it.
 */
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type { PebbleError } from "../../PebbleError.js"

/**
 * Who answers Pebble's http-01 and tls-alpn-01 validations:
 *
 * - `"challtestsrv"`: pebble-challtestsrv listens on `httpPort` and `tlsPort` and answers what
 *   `addHttp01` / `addTlsAlpn01` told it.
 * - `"external"`: challtestsrv runs DNS and its management API only; the caller's own servers must
 *   listen on `127.0.0.1:httpPort` (http-01) and `127.0.0.1:tlsPort` (tls-alpn-01).
 *
 * Either way every name resolves to 127.0.0.1 through challtestsrv's DNS unless `addA` says otherwise.
 *
 * @since 0.1.0
 * @category models
 */
export type ChallengeServers = "challtestsrv" | "external"

/**
 * @since 0.1.0
 * @category models
 */
export interface PebbleOptions {
  /** percentage of valid nonces Pebble rejects with `badNonce` (`PEBBLE_WFE_NONCEREJECT`); default 0 */
  readonly nonceRejectPercent?: number | undefined
  /** percentage of new orders that reuse a valid authorization (`PEBBLE_AUTHZREUSE`); default 0 */
  readonly authzReusePercent?: number | undefined
  /** skip challenge validation: every challenge becomes valid (`PEBBLE_VA_ALWAYS_VALID`); default false */
  readonly alwaysValid?: boolean | undefined
  /** number of extra root CAs (`PEBBLE_ALTERNATE_ROOTS`): roots `0..alternateRoots` exist; default 0 */
  readonly alternateRoots?: number | undefined
  /** number of intermediates between leaf and root (`PEBBLE_CHAIN_LENGTH`); default 1 */
  readonly chainLength?: number | undefined
  /** External Account Binding: whether it is required, and the accepted key ids with their base64url HMAC keys */
  readonly eab?: {
    readonly required: boolean
    readonly keys: Readonly<Record<string, string>>
  } | undefined
  /** validity of issued certificates in seconds (Pebble's default is about five years) */
  readonly certificateValidityPeriodSeconds?: number | undefined
  /** default `"challtestsrv"` */
  readonly challengeServers?: ChallengeServers | undefined
  /**
   * the DNS server Pebble resolves names with (`-dnsserver`), `host:port`; default challtestsrv's DNS
   * (`127.0.0.1:dnsPort`). Give a `Bind` server (`bind.server`) to validate dns-01 through BIND.
   */
  readonly dnsServer?: string | undefined
  /** the Pebble binary: a path or a name on PATH; default `process.env.PEBBLE_BIN ?? "pebble"` */
  readonly pebbleBin?: string | undefined
  /** default `process.env.PEBBLE_CHALLTESTSRV_BIN ?? "pebble-challtestsrv"` */
  readonly challtestsrvBin?: string | undefined
  /** run Pebble with `-strict`; default false */
  readonly strict?: boolean | undefined
  /** how long to wait for both processes to answer; default 20 seconds */
  readonly startTimeout?: Duration.DurationInput | undefined
  /** echo both processes' output to stderr; default: `ACME_TEST_VERBOSE` is set to `1` or `true` */
  readonly verbose?: boolean | undefined
}

/**
 * The `meta` object of the directory.
 *
 * @since 0.1.0
 * @category models
 */
export interface DirectoryMeta {
  readonly termsOfService?: string
  readonly website?: string
  readonly caaIdentities?: ReadonlyArray<string>
  readonly externalAccountRequired?: boolean
  /** certificate profiles (draft-aaron-acme-profiles): neither Debian's 2.4 nor trixie's 2.6 has them */
  readonly profiles?: { readonly [name: string]: string }
  readonly [key: string]: unknown
}

/**
 * Pebble's directory as it answered, with the fields an ACME client looks at typed.
 *
 * @since 0.1.0
 * @category models
 */
export interface Directory {
  readonly newNonce: string
  readonly newAccount: string
  readonly newOrder: string
  readonly revokeCert?: string
  readonly keyChange?: string
  readonly newAuthz?: string
  /** ACME Renewal Information (RFC 9773): Pebble 2.6+ (see `ariPebbleBinary`), not Debian bookworm's 2.4 */
  readonly renewalInfo?: string
  readonly meta?: DirectoryMeta
  readonly [key: string]: unknown
}

/**
 * What Pebble's management interface knows about an issued certificate.
 *
 * @since 0.1.0
 * @category models
 */
export interface CertificateStatus {
  readonly status: "Valid" | "Revoked"
  /** the serial as Pebble prints it: lower-case hex without leading zeros */
  readonly serial: string
  /** RFC 5280 reason code; set when revoked (Pebble omits 0, "unspecified": it is filled in as 0) */
  readonly reason?: number
  /** when revoked, as Pebble prints it (Go's `time.Time.String()`, e.g. `2026-11-23 12:58:47.98 +0000 UTC`) */
  readonly revokedAt?: string
  /** PEM of the certificate */
  readonly certificate: string
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** `https://127.0.0.1:<port>/dir` */
  readonly directoryUrl: string
  /** Pebble's management interface, `https://127.0.0.1:<port>` */
  readonly managementUrl: string
  /** challtestsrv's management API, `http://127.0.0.1:<port>` */
  readonly challtestsrvUrl: string
  /** PEM of the CA that signed Pebble's HTTPS certificate: what a client must trust to talk to Pebble */
  readonly caBundle: string
  /** the port Pebble validates http-01 on */
  readonly httpPort: number
  /** the port Pebble validates tls-alpn-01 on */
  readonly tlsPort: number
  /** challtestsrv's DNS server (UDP and TCP) on 127.0.0.1, which Pebble resolves names with unless `dnsServer` says otherwise */
  readonly dnsPort: number
  /** the DNS server Pebble resolves names with: `dnsServer`, else `127.0.0.1:dnsPort` */
  readonly dnsServer: string
  readonly challengeServers: ChallengeServers
  /** holds Pebble's config, certificate and key; removed when the scope closes */
  readonly tempDirectory: string
  readonly processIds: { readonly pebble: number; readonly challtestsrv: number }
  /** the last lines (up to 200) each process printed */
  readonly recentOutput: Effect.Effect<{
    readonly pebble: ReadonlyArray<string>
    readonly challtestsrv: ReadonlyArray<string>
  }>
  /** the directory, fetched now */
  readonly directory: Effect.Effect<Directory, PebbleError>
  /** PEM of root `index` (default 0); roots `1..alternateRoots` exist with `alternateRoots` */
  readonly rootCertificate: (index?: number) => Effect.Effect<string, PebbleError>
  /** PEM of the intermediate that issues under root `index` (default 0) */
  readonly intermediateCertificate: (index?: number) => Effect.Effect<string, PebbleError>
  /** status of an issued certificate by serial: hex, any case, with or without `0x`, colons or leading zeros */
  readonly certificateStatus: (serialHex: string) => Effect.Effect<CertificateStatus, PebbleError>
  /** adds a TXT record (challtestsrv keeps every value set for a name), e.g. `setTxt("_acme-challenge.example.org", v)` */
  readonly setTxt: (host: string, value: string) => Effect.Effect<void, PebbleError>
  /** removes every TXT record of the name */
  readonly clearTxt: (host: string) => Effect.Effect<void, PebbleError>
  /** serves `content` at `http://<any name>:httpPort/.well-known/acme-challenge/<token>` */
  readonly addHttp01: (token: string, content: string) => Effect.Effect<void, PebbleError>
  readonly removeHttp01: (token: string) => Effect.Effect<void, PebbleError>
  /** answers tls-alpn-01 for `host` with a certificate carrying the key authorization's digest */
  readonly addTlsAlpn01: (host: string, keyAuthorization: string) => Effect.Effect<void, PebbleError>
  readonly removeTlsAlpn01: (host: string) => Effect.Effect<void, PebbleError>
  /** makes `host` resolve to `addresses` (IPv4) instead of the default 127.0.0.1 */
  readonly addA: (host: string, addresses: ReadonlyArray<string>) => Effect.Effect<void, PebbleError>
  /** back to the default 127.0.0.1 */
  readonly clearA: (host: string) => Effect.Effect<void, PebbleError>
}
