/**
 * When to try a failed certificate again: an Effect `Schedule`, exported so that embedders can
 * tune it. Exponential from 1 second with jitter, each wait capped at 5 minutes, at most
 * `maxAttempts` attempts, and a `Retry-After` from the CA wins whenever it asks for longer.
 *
 * The pipeline's error handler does not sleep: it replays this schedule for the attempt count kept
 * in the checkpoint to learn the next wait, and the scheduler stage sleeps through `Clock`.
 *
 * @since 0.1.0
 */
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"

/**
 * What the policy knows about a failure.
 *
 * @since 0.1.0
 * @category models
 */
export interface Failure {
  readonly retryable: boolean
  readonly retryAfter?: Duration.Duration | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** attempts in all, the first one included (default 5) */
  readonly maxAttempts?: number | undefined
  /** the first wait (default 1 second) */
  readonly base?: Duration.DurationInput | undefined
  /** the longest computed wait (default 5 minutes); a longer Retry-After still wins */
  readonly cap?: Duration.DurationInput | undefined
}

/**
 * The retry schedule over failures; its output is the wait before the next attempt.
 *
 * @since 0.1.0
 * @category constructors
 */
export const schedule = (options: Options = {}): Schedule.Schedule<Duration.Duration, Failure> => {
  const maxAttempts = Math.max(1, options.maxAttempts ?? 5)
  const cap = Duration.decode(options.cap ?? "5 minutes")
  return Schedule.exponential(options.base ?? "1 second", 2).pipe(
    Schedule.jittered,
    Schedule.modifyDelay((_, delay) => Duration.min(delay, cap)),
    Schedule.intersect(Schedule.recurs(maxAttempts - 1)),
    Schedule.intersect(Schedule.identity<Failure>()),
    Schedule.whileInput((failure: Failure) => failure.retryable),
    Schedule.modifyDelay(([, failure], delay) =>
      failure.retryAfter !== undefined ? Duration.max(failure.retryAfter, delay) : delay
    ),
    Schedule.delays
  )
}

/**
 * The wait before the next attempt after `attempts` failed attempts, the last of which failed
 * with `failure`; `None` when the policy gives up (a final error, or no attempts left).
 *
 * @since 0.1.0
 * @category combinators
 */
export const nextDelay = (
  policy: Schedule.Schedule<Duration.Duration, Failure>,
  attempts: number,
  failure: Failure
): Effect.Effect<Option.Option<Duration.Duration>> =>
  // `Schedule.run` also emits the output of the step that ends the schedule, so feed one more
  // input than there were attempts: all `attempts` steps continued exactly when every input was used.
  Effect.map(
    Schedule.run(policy, 0, Array.from({ length: attempts + 1 }, () => failure)),
    (delays) => Chunk.size(delays) === attempts + 1 ? Chunk.get(delays, attempts - 1) : Option.none()
  )
