import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Option } from "effect"
import { RetryPolicy } from "@acme/sdk"

const seconds = (o: Option.Option<Duration.Duration>) => Option.map(o, (d) => Duration.toMillis(d) / 1000)

describe("RetryPolicy", () => {
  it.effect("grows exponentially from 1 s with jitter (0.8–1.2×)", () =>
    Effect.gen(function*() {
      const policy = RetryPolicy.schedule({ maxAttempts: 6 })
      const expected = [1, 2, 4, 8, 16]
      for (const [i, base] of expected.entries()) {
        const delay = Option.getOrThrow(seconds(yield* RetryPolicy.nextDelay(policy, i + 1, { retryable: true })))
        expect(delay).toBeGreaterThanOrEqual(base * 0.8)
        expect(delay).toBeLessThanOrEqual(base * 1.2)
      }
    }))

  it.effect("caps each wait at 5 minutes", () =>
    Effect.gen(function*() {
      const policy = RetryPolicy.schedule({ maxAttempts: 20 })
      const delay = yield* RetryPolicy.nextDelay(policy, 15, { retryable: true })
      expect(seconds(delay)).toEqual(Option.some(300))
    }))

  it.effect("a longer Retry-After wins over the computed wait, even past the cap", () =>
    Effect.gen(function*() {
      const policy = RetryPolicy.schedule({ maxAttempts: 5 })
      expect(seconds(yield* RetryPolicy.nextDelay(policy, 1, { retryable: true, retryAfter: Duration.minutes(20) })))
        .toEqual(Option.some(1200))
      const short = Option.getOrThrow(
        seconds(yield* RetryPolicy.nextDelay(policy, 3, { retryable: true, retryAfter: Duration.millis(10) }))
      )
      expect(short).toBeGreaterThanOrEqual(3.2)
    }))

  it.effect("gives up after maxAttempts attempts and at once on final errors", () =>
    Effect.gen(function*() {
      const policy = RetryPolicy.schedule({ maxAttempts: 3 })
      expect(Option.isSome(yield* RetryPolicy.nextDelay(policy, 2, { retryable: true }))).toBe(true)
      expect(yield* RetryPolicy.nextDelay(policy, 3, { retryable: true })).toEqual(Option.none())
      expect(yield* RetryPolicy.nextDelay(policy, 1, { retryable: false })).toEqual(Option.none())
      expect(yield* RetryPolicy.nextDelay(RetryPolicy.schedule({ maxAttempts: 1 }), 1, { retryable: true }))
        .toEqual(Option.none())
    }))
})
