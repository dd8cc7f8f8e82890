/**
 * scheduler: waits, through Effect's Clock, until the bucket's `retryNotBefore`, then lets the
 * failed stage run again. The only stage that sleeps; TestClock drives it in tests.
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { State } from "../RenewalState.js"
import { currentBucket, updateCurrent } from "./context.js"

/**
 * @since 0.1.0
 * @category stages
 */
export const scheduler = (state: State): Effect.Effect<State> =>
  Effect.gen(function*() {
    const until = Option.flatMap(Option.fromNullable(currentBucket(state).retryNotBefore), DateTime.make)
    if (Option.isSome(until)) {
      const now = yield* DateTime.now
      const wait = DateTime.distance(now, until.value)
      if (wait > 0) yield* Effect.sleep(Duration.millis(wait))
    }
    return updateCurrent(state, (bucket) => ({ ...bucket, retryNotBefore: undefined }))
  })
