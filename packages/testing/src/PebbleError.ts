/**
 * The one error of the Pebble harness.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"

/**
 * What went wrong:
 *
 * - `NotInstalled`: `pebble` or `pebble-challtestsrv` is not on `PATH` (or not at the configured path).
 * - `StartFailed`: a process could not start, exited early or did not answer in time; the message ends
 *   with the tail of its output.
 * - `Management`: a call to Pebble's or challtestsrv's management API failed.
 *
 * @since 0.1.0
 * @category models
 */
export type Reason = "NotInstalled" | "StartFailed" | "Management"

/**
 * @since 0.1.0
 * @category errors
 */
export class PebbleError extends Data.TaggedError("PebbleError")<{
  readonly reason: Reason
  readonly message: string
}> {}

/**
 * @since 0.1.0
 * @category guards
 */
export const isPebbleError = (u: unknown): u is PebbleError => u instanceof PebbleError
