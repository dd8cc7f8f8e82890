/**
 * How a running renewal stops when the server does: at the next stage boundary (after the stage
 * that is running finished and its checkpoint was written), and at once when it is only waiting in
 * the `scheduler` stage for a retry time (the checkpoint before that stage already holds what the
 * run did). The run is interrupted there; its task stays `running` and the next start runs it again,
 * which resumes the run from its checkpoint.
 *
 * It works through the SDK's own hooks: `CrashPoint` (the pipeline reaches `before:<stage>` at every
 * boundary) and `Renewal.Progress` (which stage is running), each wrapping the one the
 * configuration provides.
 */
import { CrashPoint, Renewal } from "@acme/sdk"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"

/** @internal */
export interface StopPoints {
  /** from now on, the running program stops at its next stage boundary */
  readonly stop: Effect.Effect<void>
  /** whether the running program is waiting (the scheduler stage), so that interrupting it now loses nothing */
  readonly waiting: Effect.Effect<boolean>
  /** runs a program with the stop points; the services it wraps come from the program's context */
  readonly around: <A, E, R>(program: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

/** @internal */
export const make: Effect.Effect<StopPoints> = Effect.gen(function*() {
  const stopping = yield* Ref.make(false)
  const stage = yield* Ref.make<string | undefined>(undefined)
  return {
    stop: Ref.set(stopping, true),
    waiting: Effect.map(Ref.get(stage), (name) => name === "scheduler"),
    around: (program) =>
      Effect.gen(function*() {
        const crash = yield* CrashPoint.CrashPoint
        const progress = yield* Renewal.Progress
        return yield* program.pipe(
          Effect.provideService(CrashPoint.CrashPoint, {
            reach: (point) =>
              Effect.zipRight(
                crash.reach(point),
                Effect.flatMap(Ref.get(stopping), (stop) => stop && point.startsWith("before:") ? Effect.interrupt : Effect.void)
              )
          }),
          Effect.provideService(Renewal.Progress, {
            emit: (event) =>
              Effect.zipRight(
                event._tag === "StageStarted"
                  ? Ref.set(stage, event.stage)
                  : event._tag === "StageFinished"
                  ? Ref.set(stage, undefined)
                  : Effect.void,
                progress.emit(event)
              )
          }),
          Effect.ensuring(Ref.set(stage, undefined))
        )
      })
  }
})
