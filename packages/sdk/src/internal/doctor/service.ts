/**
 * The contract of `Doctor`: what a check reports (a `Finding`), the report, the lookups and the
 * dns-01 probe it asks of its environment, and its options. `Doctor` re-exports all of it; the
 * checks under `internal/doctor/` build findings.
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { CertificateSpec } from "../../RenewalConfig.js"

/**
 * The kinds of check: names resolve (`dns`), CAA allows the CA (`caa`), the challenge can be
 * answered (`http-01`, `dns-01`; `tls-alpn-01` is only listed), the clock agrees with the CA's (`clock`), the storage is writable
 * and private (`storage`), the stored account is valid (`account`), External Account Binding is
 * there when needed (`eab`), the CA answers (`ca`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const CheckName = Schema.Literal("ca", "clock", "eab", "storage", "account", "dns", "caa", "http-01", "dns-01", "tls-alpn-01")

/**
 * @since 0.1.0
 * @category models
 */
export type CheckName = typeof CheckName.Type

/**
 * `ok`: fine; `fail`: an order would fail (or something is unsafe), `fix` says what to do; `warn`:
 * could not be decided, or may be a problem; `skip`: does not apply.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Status = Schema.Literal("ok", "fail", "warn", "skip")

/**
 * @since 0.1.0
 * @category models
 */
export type Status = typeof Status.Type

/**
 * The outcome of one check.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Finding = Schema.Struct({
  check: CheckName,
  /** the certificate it is about; absent for the checks of the CA, the storage and the account */
  certificate: Schema.optional(Schema.String),
  /** what was checked: a name, a URL, a folder */
  subject: Schema.String,
  status: Status,
  /** one line: what was found */
  message: Schema.String,
  /** one line: what to do (for `fail` and `warn`) */
  fix: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export type Finding = typeof Finding.Type

/**
 * `acme doctor --json`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Report = Schema.Struct({
  directoryUrl: Schema.String,
  /** no check failed */
  ok: Schema.Boolean,
  counts: Schema.Struct({ ok: Schema.Number, fail: Schema.Number, warn: Schema.Number, skip: Schema.Number }),
  checks: Schema.Array(Finding)
})

/**
 * @since 0.1.0
 * @category models
 */
export type Report = typeof Report.Type

/**
 * One CAA record (RFC 8659).
 *
 * @since 0.1.0
 * @category models
 */
export interface CaaRecord {
  readonly critical: boolean
  /** `issue`, `issuewild`, `iodef`, ... (lower case) */
  readonly tag: string
  readonly value: string
}

/**
 * A lookup failed for another reason than "no such name" or "no such record" (those are empty
 * answers): a timeout, a refusal, a server failure.
 *
 * @since 0.1.0
 * @category errors
 */
export class LookupError extends Data.TaggedError("LookupError")<{
  readonly name: string
  readonly type: string
  readonly description: string
}> {
  override get message(): string {
    return `${this.type} ${this.name}: ${this.description}`
  }
}

/**
 * The DNS lookups the checks make, as the CA would make them: through recursive resolvers.
 *
 * @since 0.1.0
 * @category models
 */
export interface LookupsService {
  /** the IPv4 and IPv6 addresses of a name; none when it has none */
  readonly addresses: (name: string) => Effect.Effect<ReadonlyArray<string>, LookupError>
  /** the CAA records at exactly this name (none when it has none); a CNAME is followed */
  readonly caa: (name: string) => Effect.Effect<ReadonlyArray<CaaRecord>, LookupError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Lookups extends Context.Tag("@acme/sdk/Doctor/Lookups")<Lookups, LookupsService>() {}

/**
 * What a dns-01 probe is asked: one name of a certificate whose challenge is dns-01.
 *
 * @since 0.1.0
 * @category models
 */
export interface Dns01ProbeInput {
  readonly certificate: CertificateSpec
  /** the name as configured (`*.example.org` included) */
  readonly name: string
}

/**
 * Checks that the certificate's DNS provider works (it adds and removes a test TXT record) and
 * that the zone's name servers answer. `@acme/dns` has one over its providers.
 *
 * @since 0.1.0
 * @category models
 */
export interface Dns01ProbeService {
  readonly check: (input: Dns01ProbeInput) => Effect.Effect<ReadonlyArray<Finding>>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Dns01Probe extends Context.Tag("@acme/sdk/Doctor/Dns01Probe")<Dns01Probe, Dns01ProbeService>() {}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** only these certificates (their configured names); default all */
  readonly only?: ReadonlyArray<string> | undefined
  /** the folder of a file storage: its modes are checked (other storages are only read) */
  readonly storagePath?: string | undefined
  /** the port the CA connects to for http-01: 80, except with test CAs such as Pebble */
  readonly http01Port?: number | undefined
  /** the largest difference to the CA's clock that passes; default 1 minute */
  readonly clockTolerance?: Duration.DurationInput | undefined
  /** how long one HTTP request may take; default 10 seconds */
  readonly requestTimeout?: Duration.DurationInput | undefined
}
