/**
 * What a stop signal (SIGTERM, SIGINT) means for the exit code of `acme`. Most commands are cut
 * short by one: the process says `acme: interrupted` and exits 130. A command that runs until it
 * is told to stop (`acme serve`) declares the signal its normal end with {@link expected}: the
 * process then exits 0 once the command's scope has closed (the server drained and checkpointed).
 *
 * `main` provides one per process and reads it when the process ends; nothing is kept in module
 * state.
 *
 * @since 0.1.0
 */
import { Context, Effect, Ref } from "effect"

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** from now on, a stop signal is how the running command ends: exit 0 */
  readonly expected: Effect.Effect<void>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class StopSignal extends Context.Reference<StopSignal>()("@acme/cli/StopSignal", {
  defaultValue: (): Service => ({ expected: Effect.void })
}) {}

/**
 * @since 0.1.0
 * @category combinators
 */
export const expected: Effect.Effect<void> = Effect.flatMap(StopSignal, (signal) => signal.expected)

/**
 * A StopSignal for one process, and a way to read, when it ends, whether a signal was expected.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (): { readonly service: Service; readonly isExpected: () => boolean } => {
  const ref = Ref.unsafeMake(false)
  return {
    service: { expected: Ref.set(ref, true) },
    isExpected: () => Effect.runSync(Ref.get(ref))
  }
}
