/**
 * report: the run's summary, from the Reporter. Marks the run done. No network.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type { State } from "../RenewalState.js"
import { Reporter, type RunReport } from "../Reporter.js"

/**
 * @since 0.1.0
 * @category stages
 */
export const report = (state: State): Effect.Effect<[RunReport, State], never, Reporter> =>
  Effect.gen(function*() {
    const reporter = yield* Reporter
    const done: State = { ...state, phase: "done", current: undefined }
    return [yield* reporter.summarize(done), done]
  })
