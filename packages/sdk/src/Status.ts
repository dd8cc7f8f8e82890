/**
 * What each configured certificate looks like now, and what `renew` would do with it: the same scan
 * and plan stages as a renewal, without the rest, and without writing anything (a renewalInfo answer
 * is still cached, as a renewal would). Also the leases held now: which runs are going on, and which
 * certificate each is renewing.
 *
 * @since 0.1.0
 */
import * as Arr from "effect/Array"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { AcmeProtocol } from "./AcmeProtocol.js"
import { PendingDeploy } from "./DeployHook.js"
import { type Lease, runOfKey } from "./Lease.js"
import type { Planner } from "./Planner.js"
import { start } from "./Renewal.js"
import { plan } from "./Renewal/plan.js"
import { scanWith } from "./Renewal/scan.js"
import * as RenewalSettings from "./RenewalSettings.js"
import { Storage, type StorageError } from "./Storage.js"

/**
 * A lease held now: by which run, of which process, until when.
 *
 * @since 0.1.0
 * @category schemas
 */
export const LeaseStatus = Schema.Struct({
  runId: Schema.String,
  host: Schema.String,
  pid: Schema.Int,
  token: Schema.Int,
  expiresAt: Schema.String
})

/**
 * @since 0.1.0
 * @category models
 */
export type LeaseStatus = typeof LeaseStatus.Type

const leaseStatus = (lease: Lease): LeaseStatus => ({
  // a run's own lease is held in the name of the process's run that claimed it: the run is the key's
  runId: runOfKey(lease.certificate) ?? lease.holder.runId,
  host: lease.holder.host,
  pid: lease.holder.pid,
  token: lease.token,
  expiresAt: DateTime.formatIso(lease.expiresAt)
})

/**
 * One certificate in `acme status --json`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CertificateStatus = Schema.Struct({
  name: Schema.String,
  domains: Schema.Array(Schema.String),
  /** absent when there is no certificate yet */
  serial: Schema.optional(Schema.String),
  notAfter: Schema.optional(Schema.String),
  daysLeft: Schema.optional(Schema.Number),
  revokedAt: Schema.optional(Schema.String),
  /** a deploy hook that failed for the certificate in place: the next `acme renew` runs it again */
  pendingDeploy: Schema.optional(PendingDeploy),
  /** the CA's suggested renewal window (ARI), when known */
  renewalWindow: Schema.optional(Schema.Struct({
    start: Schema.String,
    end: Schema.String,
    explanationURL: Schema.optional(Schema.String)
  })),
  next: Schema.Struct({
    action: Schema.Literal("renew now", "renew later"),
    at: Schema.optional(Schema.String),
    reason: Schema.String
  }),
  /** the run renewing it now, when one holds its lease */
  lease: Schema.optional(LeaseStatus)
})

/**
 * @since 0.1.0
 * @category models
 */
export type CertificateStatus = typeof CertificateStatus.Type

/**
 * `acme status --json`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Report = Schema.Struct({
  directoryUrl: Schema.String,
  /** false when the CA could not be reached (no ARI information then) */
  caReachable: Schema.Boolean,
  certificates: Schema.Array(CertificateStatus),
  /** the runs going on now (each holds a lease on itself while it works) */
  runs: Schema.Array(LeaseStatus)
})

/**
 * @since 0.1.0
 * @category models
 */
export type Report = typeof Report.Type

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** only these certificates (by name); all of them when empty or absent */
  readonly only?: ReadonlyArray<string> | undefined
}

/**
 * The settings with only the certificates `only` names (all of them when it names none), so that
 * the scan reads and asks the CA about those alone; None when it names only unknown ones.
 */
const selected = (
  only: ReadonlyArray<string>
): Effect.Effect<Option.Option<RenewalSettings.Settings>, never, RenewalSettings.RenewalSettings> =>
  Effect.map(RenewalSettings.RenewalSettings, (settings) => {
    if (only.length === 0) return Option.some(settings)
    const certificates = settings.config.certificates.filter((certificate) => only.includes(certificate.name))
    return Arr.isNonEmptyReadonlyArray(certificates)
      ? Option.some({ ...settings, config: { ...settings.config, certificates } })
      : Option.none()
  })

/**
 * The status of the configured certificates (of those `only` names, when it names some).
 *
 * @since 0.1.0
 * @category programs
 */
export const statusOf = (
  options: Options = {}
): Effect.Effect<Report, StorageError, AcmeProtocol | Storage | Planner | RenewalSettings.RenewalSettings> =>
  Effect.gen(function*() {
    const settings = yield* selected(options.only ?? [])
    if (Option.isNone(settings)) {
      return { directoryUrl: yield* RenewalSettings.directoryUrl, caReachable: false, certificates: [], runs: [] }
    }
    return yield* report.pipe(Effect.provideService(RenewalSettings.RenewalSettings, settings.value))
  }).pipe(Effect.withSpan("Status.status"))

const report: Effect.Effect<Report, StorageError, AcmeProtocol | Storage | Planner | RenewalSettings.RenewalSettings> =
  Effect.gen(function*() {
    const initial = yield* start({ dryRun: true })
    // status says whether the CA can be reached: the directory is read in any case
    const scanned = yield* scanWith({ directory: "always" })(initial)
    const planned = yield* plan(scanned)
    const now = yield* DateTime.now
    const leases = yield* Effect.flatMap(Storage, (storage) => storage.listLeases)
    const certificateLeases = new Map(leases.map((lease) => [lease.certificate, leaseStatus(lease)]))
    return {
      directoryUrl: planned.directoryUrl,
      caReachable: planned.directory !== undefined,
      runs: leases.filter((lease) => runOfKey(lease.certificate) !== undefined).map(leaseStatus),
      certificates: planned.buckets.map((bucket): CertificateStatus => {
        const current = bucket.current
        const notAfter = Option.flatMap(Option.fromNullable(current?.notAfter), DateTime.make)
        const decision = bucket.decision
        return {
          name: bucket.name,
          domains: bucket.identifiers.map((identifier) => identifier.value),
          serial: current?.serialNumber,
          notAfter: current?.notAfter,
          daysLeft: Option.getOrUndefined(
            Option.map(notAfter, (at) => Math.floor(DateTime.distance(now, at) / 86_400_000))
          ),
          revokedAt: current?.revokedAt,
          pendingDeploy: current?.pendingDeploy,
          renewalWindow: current?.renewalInfo,
          next: {
            action: decision?.action === "renew" ? "renew now" : "renew later",
            at: decision?.renewAt,
            reason: decision?.reason ?? "unknown"
          },
          lease: certificateLeases.get(bucket.name)
        }
      })
    }
  }).pipe(Effect.scoped)

/**
 * The status of every configured certificate.
 *
 * @since 0.1.0
 * @category programs
 */
export const status: Effect.Effect<Report, StorageError, AcmeProtocol | Storage | Planner | RenewalSettings.RenewalSettings> =
  statusOf()
