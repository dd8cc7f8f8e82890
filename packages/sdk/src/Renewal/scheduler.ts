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
import * as Stage from "./stage.js"

/**
 * @since 0.1.0
 * @category stages
 */
export const scheduler: Stage.Stage<never, never> = Stage.make(({ bucket }) =>
  Effect.gen(function*() {
    const until = Option.flatMap(Option.fromNullable(bucket.retryNotBefore), DateTime.make)
    if (Option.isSome(until)) {
      const wait = DateTime.distance(yield* DateTime.now, until.value)
      if (wait > 0) yield* Effect.sleep(Duration.millis(wait))
    }
    return { retryNotBefore: undefined }
  })
)
