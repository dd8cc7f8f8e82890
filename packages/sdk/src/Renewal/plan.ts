/**
 * plan: asks the Planner what to do with each certificate. No network.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { Planner } from "../Planner.js"
import type { Bucket, State } from "../RenewalState.js"
import { RenewalSettings } from "./context.js"

/**
 * @since 0.1.0
 * @category stages
 */
export const plan = (state: State): Effect.Effect<State, never, Planner | RenewalSettings> =>
  Effect.gen(function*() {
    const settings = yield* RenewalSettings
    const planner = yield* Planner
    const selected = (bucket: Bucket) => state.options.only.length === 0 || state.options.only.includes(bucket.name)
    const candidates = state.buckets.filter(selected)
    const decisions = yield* planner.plan(candidates.map((bucket) => {
      const spec = settings.config.certificates.find((c) => c.name === bucket.name)
      return {
        name: bucket.name,
        identifiers: bucket.identifiers,
        keyType: spec?.key ?? "ec-p256",
        profile: spec?.profile,
        directoryUrl: state.directoryUrl,
        current: Option.fromNullable(bucket.current),
        force: state.options.force
      }
    }))
    const byName = new Map(candidates.map((bucket, index) => [bucket.name, decisions[index]]))
    const buckets = state.buckets.map((bucket): Bucket => {
      const decision = byName.get(bucket.name)
      if (decision === undefined) {
        return { ...bucket, stage: "skipped", result: { action: "skipped", reason: "not selected (--only)" } }
      }
      if (decision.action === "skip" || state.options.dryRun) {
        return {
          ...bucket,
          decision,
          stage: "skipped",
          result: {
            action: "skipped",
            reason: decision.action === "renew" ? `dry run; would renew: ${decision.reason}` : decision.reason,
            serialNumber: bucket.current?.serialNumber,
            notAfter: bucket.current?.notAfter
          }
        }
      }
      return { ...bucket, decision, stage: "account" }
    })
    return { ...state, buckets, phase: state.options.dryRun ? "report" as const : "renew" as const }
  })
