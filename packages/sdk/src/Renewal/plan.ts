/**
 * plan: asks the Planner what to do with each certificate, and in which order to renew the ones
 * that are due. No network.
 *
 * The planner also gets each certificate's last error from the previous run of this CA (from its
 * checkpoint), and the plan's outcome (which planner, what its guards did) is kept in the state for
 * the report. Due certificates are moved into the planner's order among themselves; every other
 * bucket keeps its place, so the deterministic planner leaves the configured order as it is.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { type Input, Planner } from "../Planner.js"
import type { CertificateSpec } from "../RenewalConfig.js"
import type { Bucket, State } from "../RenewalState.js"
import { RenewalSettings } from "../RenewalSettings.js"
import type { Storage } from "../Storage.js"
import * as EarlierRuns from "./earlierRuns.js"
import * as Stage from "./stage.js"

/** Each certificate's last error in the newest other checkpoint of this CA, when it failed there. */
const previousErrors = (state: State): Effect.Effect<ReadonlyMap<string, string>, never, Storage> =>
  Effect.gen(function*() {
    const [previous] = yield* EarlierRuns.ofThisCa(state)
    return new Map(previous?.buckets.flatMap((bucket) =>
      (bucket.stage === "failed" || bucket.result?.action === "failed") && bucket.lastError !== undefined
        ? [[bucket.name, bucket.lastError.message] as const]
        : []
    ))
  }).pipe(
    Effect.catchAll((error) =>
      Effect.as(Effect.logDebug(`plan: previous run's errors not read (${error.message})`), new Map<string, string>())
    )
  )

/**
 * The buckets with the ones going on to `account` put in `order` among their own places (a name
 * missing from `order` goes after the ordered ones, in its current order).
 */
const reorder = (buckets: ReadonlyArray<Bucket>, order: ReadonlyArray<string>): Array<Bucket> => {
  const due = buckets.filter((bucket) => bucket.stage === "account")
  // ranks looked up in a map and the queue walked by index: linear in the number of certificates
  const ranks = new Map<string, number>()
  order.forEach((name, index) => {
    if (!ranks.has(name)) ranks.set(name, index)
  })
  const rank = (bucket: Bucket) => ranks.get(bucket.name) ?? order.length
  const queue = [...due].sort((a, b) => rank(a) - rank(b))
  let next = 0
  return buckets.map((bucket) => bucket.stage === "account" ? (queue[next++] ?? bucket) : bucket)
}

/**
 * @since 0.1.0
 * @category stages
 */
export const plan: Stage.Stage<never, Planner | RenewalSettings | Storage> = Stage.fromFunction((state) =>
  Effect.gen(function*() {
    const settings = yield* RenewalSettings
    const planner = yield* Planner
    const errors = yield* previousErrors(state)
    const only = new Set(state.options.only)
    const selected = (bucket: Bucket) => only.size === 0 || only.has(bucket.name)
    const candidates = state.buckets.filter(selected)
    // the first specification of each name, as `find` would give it
    const specs = new Map<string, CertificateSpec>([...settings.config.certificates].reverse().map((spec) => [spec.name, spec]))
    const planned = yield* planner.plan(candidates.map((bucket): Input => {
      const spec = specs.get(bucket.name)
      return {
        name: bucket.name,
        identifiers: bucket.identifiers,
        keyType: spec?.key ?? "ec-p256",
        profile: spec?.profile,
        directoryUrl: state.directoryUrl,
        current: Option.fromNullable(bucket.current),
        force: state.options.force,
        lastError: errors.get(bucket.name),
        daysBefore: settings.config.renewal.daysBefore
      }
    }))
    const byName = new Map(candidates.map((bucket, index) => [bucket.name, planned.decisions[index]]))
    const buckets = state.buckets.map((bucket): Bucket => {
      const decision = byName.get(bucket.name)
      if (decision === undefined) {
        return { ...bucket, stage: "skipped", result: { action: "skipped", reason: "not selected (--only)" } }
      }
      if (decision.action === "renew" && !state.options.dryRun) return { ...bucket, decision, stage: "account" }
      const reason = decision.action === "renew" ? `dry run; would renew: ${decision.reason}` : decision.reason
      const { notAfter, serialNumber } = bucket.current ?? {}
      return { ...bucket, decision, stage: "skipped", result: { action: "skipped", reason, serialNumber, notAfter } }
    })
    return {
      ...state,
      planner: planned.outcome,
      buckets: reorder(buckets, planned.order),
      phase: state.options.dryRun ? "report" as const : "renew" as const
    }
  })
)
