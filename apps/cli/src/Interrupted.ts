/**
 * `acme renew --json` stopped by a signal (SIGTERM, Ctrl-C): the one JSON document is still printed,
 * the report of what was done until then (from the run's last checkpoint), marked `interrupted`.
 * The exit code stays 130, and the next `acme renew` resumes the run.
 *
 * @since 0.1.0
 */
import { Renewal, RenewalSettings, RenewalState, Reporter, Storage } from "@acme/sdk"
import { DateTime, Effect, Option, Ref } from "effect"
import * as Output from "./Output.js"

/** The state in the run's newest checkpoint; a state without certificates when it saved none yet. */
const lastState = (runId: string | undefined) =>
  Effect.gen(function*() {
    const storage = yield* Storage.Storage
    const checkpoints = yield* storage.loadCheckpoints.pipe(Effect.orElseSucceed(() => []))
    const saved = Option.flatMap(
      Option.fromNullable([...checkpoints].reverse().find((checkpoint) => checkpoint.runId === runId)),
      (checkpoint) => RenewalState.decode(checkpoint.json)
    )
    if (Option.isSome(saved)) return saved.value
    const empty: RenewalState.State = {
      version: 1,
      runId: runId ?? "",
      startedAt: DateTime.formatIso(yield* DateTime.now),
      directoryUrl: yield* RenewalSettings.directoryUrl,
      options: { force: false, dryRun: false, only: [] },
      phase: "scan",
      resumptions: 0,
      buckets: []
    }
    return empty
  })

/**
 * Runs a renewal; when it is interrupted and `asJson`, prints the interrupted run's report as the
 * one JSON document on stdout.
 *
 * @since 0.1.0
 * @category combinators
 */
export const reportWhenInterrupted = (asJson: boolean) =>
<A, E, R>(
  self: Effect.Effect<A, E, R>
): Effect.Effect<A, E, R | Storage.Storage | RenewalSettings.RenewalSettings> =>
  asJson
    ? Effect.gen(function*() {
      const runId = yield* Ref.make<string | undefined>(undefined)
      const progress = yield* Renewal.Progress
      return yield* self.pipe(
        // the run id comes with the first progress event
        Effect.provideService(Renewal.Progress, {
          emit: (event) =>
            Effect.zipRight(event._tag === "RunStarted" ? Ref.set(runId, event.runId) : Effect.void, progress.emit(event))
        }),
        Effect.onInterrupt(() =>
          Effect.flatMap(Ref.get(runId), lastState).pipe(
            Effect.flatMap((state) => Output.json(Reporter.interrupted(state)))
          )
        )
      )
    })
    : self
