/**
 * When to try a failed certificate again: an Effect `Schedule`, exported so that embedders can
 * tune it. Exponential from 1 second with jitter, each wait capped at 5 minutes, at most
 * `maxAttempts` attempts, and a `Retry-After` from the CA wins whenever it asks for longer.
 *
 * The pipeline's error handler does not sleep: it replays this schedule for the attempt count kept
 * in the checkpoint to learn the next wait, and the scheduler stage sleeps through `Clock`.
 *
 * The schedule is defined with every other wait in {@link Waits}; this module names it as before.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type * as Schedule from "effect/Schedule"
import * as Waits from "./Waits.js"

/**
 * What the policy knows about a failure.
 *
 * @since 0.1.0
 * @category models
 */
export type Failure = Waits.RetryFailure

/**
 * @since 0.1.0
 * @category models
 */
export type Options = Waits.RetryOptions

/**
 * The retry schedule over failures; its output is the wait before the next attempt (`Waits.retry`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const schedule: (options?: Options) => Schedule.Schedule<Duration.Duration, Failure> = Waits.retry

/**
 * The wait before the next attempt after `attempts` failed attempts, the last of which failed
 * with `failure`; `None` when the policy gives up (a final error, or no attempts left).
 *
 * @since 0.1.0
 * @category combinators
 */
export const nextDelay: (
  policy: Schedule.Schedule<Duration.Duration, Failure>,
  attempts: number,
  failure: Failure
) => Effect.Effect<Option.Option<Duration.Duration>> = Waits.nextRetryDelay
