/**
 * What each configured certificate looks like now, and what `renew` would do with it: the same scan
 * and plan stages as a renewal, without the rest, and without writing anything (a renewalInfo answer
 * is still cached, as a renewal would).
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { AcmeProtocol } from "./AcmeProtocol.js"
import type { Planner } from "./Planner.js"
import { start } from "./Renewal.js"
import type { RenewalSettings } from "./Renewal/context.js"
import { plan } from "./Renewal/plan.js"
import { scan } from "./Renewal/scan.js"
import type { Storage, StorageError } from "./Storage.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface CertificateStatus {
  readonly name: string
  readonly domains: ReadonlyArray<string>
  /** undefined when there is no certificate yet */
  readonly serial: string | undefined
  readonly notAfter: string | undefined
  readonly daysLeft: number | undefined
  readonly revokedAt: string | undefined
  /** the CA's suggested renewal window (ARI), when known */
  readonly renewalWindow: { readonly start: string; readonly end: string; readonly explanationURL?: string | undefined } | undefined
  readonly next: { readonly action: "renew now" | "renew later"; readonly at: string | undefined; readonly reason: string }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Report {
  readonly directoryUrl: string
  /** false when the CA could not be reached (no ARI information then) */
  readonly caReachable: boolean
  readonly certificates: ReadonlyArray<CertificateStatus>
}

/**
 * @since 0.1.0
 * @category programs
 */
export const status: Effect.Effect<Report, StorageError, AcmeProtocol | Storage | Planner | RenewalSettings> = Effect
  .gen(function*() {
    const initial = yield* start({ dryRun: true })
    const scanned = yield* scan(initial)
    const planned = yield* plan(scanned)
    const now = yield* DateTime.now
    return {
      directoryUrl: planned.directoryUrl,
      caReachable: planned.directory !== undefined,
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
          renewalWindow: current?.renewalInfo,
          next: {
            action: decision?.action === "renew" ? "renew now" : "renew later",
            at: decision?.renewAt,
            reason: decision?.reason ?? "unknown"
          }
        }
      })
    }
  }).pipe(Effect.withSpan("Status.status"))
