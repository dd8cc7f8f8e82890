import { AuthThrottle } from "@acme/server"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, TestClock } from "effect"

const blockedFor = (throttle: AuthThrottle.Service, address: string) =>
  Effect.map(Effect.exit(throttle.check(address)), (exit) =>
    Exit.isSuccess(exit) ? 0 : Exit.match(exit, { onSuccess: () => 0, onFailure: (cause) => {
      const problem = cause._tag === "Fail" ? cause.error : undefined
      return problem?.status === 429 ? problem.retryAfter ?? -1 : -1
    } }))

describe("AuthThrottle", () => {
  it.effect("allows the free failures, then blocks for 1, 2, 4 ... seconds, capped, as the Clock says", () =>
    Effect.gen(function*() {
      const throttle = yield* AuthThrottle.make({ free: 3, maxBlock: "5 seconds", window: "15 minutes" })
      for (let i = 0; i < 3; i++) {
        expect(yield* blockedFor(throttle, "10.0.0.1")).toBe(0)
        yield* throttle.failure("10.0.0.1")
      }
      expect(yield* blockedFor(throttle, "10.0.0.1")).toBe(0)
      yield* throttle.failure("10.0.0.1")
      expect(yield* blockedFor(throttle, "10.0.0.1")).toBe(1)
      // another address is not affected
      expect(yield* blockedFor(throttle, "10.0.0.2")).toBe(0)
      yield* TestClock.adjust("999 millis")
      expect(yield* blockedFor(throttle, "10.0.0.1")).toBe(1)
      yield* TestClock.adjust("1 millis")
      expect(yield* blockedFor(throttle, "10.0.0.1")).toBe(0)
      yield* throttle.failure("10.0.0.1")
      expect(yield* blockedFor(throttle, "10.0.0.1")).toBe(2)
      yield* TestClock.adjust("2 seconds")
      yield* throttle.failure("10.0.0.1")
      expect(yield* blockedFor(throttle, "10.0.0.1")).toBe(4)
      yield* TestClock.adjust("4 seconds")
      yield* throttle.failure("10.0.0.1")
      expect(yield* blockedFor(throttle, "10.0.0.1")).toBe(5)
    }))

  it.effect("a success forgets the address; failures older than the window are forgotten too", () =>
    Effect.gen(function*() {
      const throttle = yield* AuthThrottle.make({ free: 1, window: "1 minute" })
      yield* throttle.failure("a")
      yield* throttle.success("a")
      yield* throttle.failure("a")
      expect(yield* blockedFor(throttle, "a")).toBe(0)
      yield* TestClock.adjust("61 seconds")
      yield* throttle.failure("a")
      expect(yield* blockedFor(throttle, "a")).toBe(0)
      yield* throttle.failure("a")
      expect(yield* blockedFor(throttle, "a")).toBe(1)
    }))

  it.effect("remembers at most maxAddresses, forgetting the least recently failed", () =>
    Effect.gen(function*() {
      const throttle = yield* AuthThrottle.make({ free: 0, maxAddresses: 2 })
      yield* throttle.failure("a")
      yield* throttle.failure("b")
      yield* throttle.failure("c")
      expect(yield* blockedFor(throttle, "a")).toBe(0)
      expect(yield* blockedFor(throttle, "b")).toBe(1)
      expect(yield* blockedFor(throttle, "c")).toBe(1)
    }))
})
