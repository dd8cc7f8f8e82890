import { Waits } from "@acme/sdk"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Clock, Duration, Effect, Fiber, Option, Ref, Schedule, TestClock } from "effect"

/**
 * Runs `run(attempt)` in a fiber and reports how many times `attempt` ran before the first and
 * after each clock advance (`seen`), then in all once the fiber is done (`total`). Without an
 * advance, a fiber that sleeps never ends: the test then times out.
 */
const attemptsOver = <A, E>(
  run: (attempt: Effect.Effect<number>) => Effect.Effect<A, E>,
  advances: ReadonlyArray<Duration.DurationInput>
) =>
  Effect.gen(function*() {
    const count = yield* Ref.make(0)
    const fiber = yield* Effect.fork(run(Ref.updateAndGet(count, (n) => n + 1)))
    yield* Effect.yieldNow()
    const seen: Array<number> = [yield* Ref.get(count)]
    for (const advance of advances) {
      yield* TestClock.adjust(advance)
      seen.push(yield* Ref.get(count))
    }
    const exit = yield* Fiber.await(fiber)
    return { seen, exit, total: yield* Ref.get(count) }
  })

interface Step extends Waits.PollStep {
  readonly n: number
}

describe("Waits", () => {
  it.effect("poll: waits grow by half from the interval up to the longest wait, on the Clock", () =>
    Effect.gen(function*() {
      const schedule = Waits.poll<Step>({
        interval: Duration.millis(200),
        maxInterval: Duration.millis(400),
        deadline: Duration.toMillis(Duration.minutes(1))
      })
      const { exit, seen } = yield* attemptsOver(
        (attempt) =>
          Effect.repeat(
            Effect.flatMap(attempt, (n) =>
              Effect.map(Clock.currentTimeMillis, (at): Step => ({ n, done: n === 5, retryAfter: undefined, at }))),
            schedule
          ),
        // polls at 0, 200, 500 (200 + 300), 900 (+ 450 capped at 400) and 1300 ms
        ["199 millis", "1 milli", "299 millis", "1 milli", "399 millis", "1 milli", "400 millis", "1 hour"]
      )
      expect(seen).toEqual([1, 1, 2, 2, 3, 3, 4, 5, 5])
      expect(exit._tag === "Success" && exit.value.n).toBe(5)
    }))

  it.effect("poll: a longer Retry-After wins over the computed wait, even beyond the longest one", () =>
    Effect.gen(function*() {
      const schedule = Waits.poll<Step>({
        interval: Waits.defaultPollInterval,
        maxInterval: Waits.defaultMaxPollInterval,
        deadline: Duration.toMillis(Waits.defaultPollTimeout)
      })
      const { seen } = yield* attemptsOver(
        (attempt) =>
          Effect.repeat(
            Effect.flatMap(attempt, (n) =>
              Effect.map(Clock.currentTimeMillis, (at): Step => ({
                n,
                done: n === 2,
                retryAfter: Duration.seconds(30),
                at
              }))),
            schedule
          ),
        ["29999 millis", "1 milli"]
      )
      expect(seen).toEqual([1, 1, 2])
    }))

  it.effect("poll: a shorter Retry-After (0 included) never polls faster than the schedule: no tight loop", () =>
    Effect.gen(function*() {
      const schedule = Waits.poll<Step>({
        interval: Duration.millis(200),
        maxInterval: Duration.millis(400),
        deadline: Duration.toMillis(Duration.minutes(1))
      })
      const { seen } = yield* attemptsOver(
        (attempt) =>
          Effect.repeat(
            Effect.flatMap(attempt, (n) =>
              Effect.map(Clock.currentTimeMillis, (at): Step => ({ n, done: n === 3, retryAfter: Duration.zero, at }))),
            schedule
          ),
        // the schedule's own waits: 200, then 300 ms
        ["199 millis", "1 milli", "299 millis", "1 milli"]
      )
      expect(seen).toEqual([1, 1, 2, 2, 3])
    }))

  it.effect("poll: stops before a wait that would end after the deadline (the caller reports PollTimeout)", () =>
    Effect.gen(function*() {
      const schedule = Waits.poll<Step>({
        interval: Duration.seconds(1),
        maxInterval: Duration.seconds(10),
        deadline: 3000
      })
      const { exit, seen } = yield* attemptsOver(
        (attempt) =>
          Effect.repeat(
            Effect.flatMap(attempt, (n) =>
              Effect.map(Clock.currentTimeMillis, (at): Step => ({ n, done: false, retryAfter: undefined, at }))),
            schedule
          ),
        // polls at 0, 1 and 2.5 s; the next wait (2.25 s) would end at 4.75 s, past 3 s
        ["1 second", "1500 millis", "1 hour"]
      )
      expect(seen).toEqual([1, 2, 3, 3])
      expect(exit._tag === "Success" && exit.value.done).toBe(false)
    }))

  it.effect("badNonce: sent again at once, at most the bound, and only for BadNonce", () =>
    Effect.gen(function*() {
      const failingWith =
        (error: { readonly _tag: string }, retries?: number) => (attempt: Effect.Effect<number>) =>
          attempt.pipe(Effect.zipRight(Effect.fail(error)), Effect.retry(Waits.badNonce(retries)))
      const always = yield* attemptsOver(failingWith({ _tag: "BadNonce" }, 3), [])
      // no clock advance: nothing waits between the retries
      expect(always.total).toBe(4)
      expect(always.exit._tag).toBe("Failure")
      const other = yield* attemptsOver(failingWith({ _tag: "RateLimited" }, 3), [])
      expect(other.total).toBe(1)
      const defaults = yield* attemptsOver(failingWith({ _tag: "BadNonce" }), [])
      expect(defaults.total).toBe(Waits.defaultBadNonceRetries + 1)
    }))

  it.effect("retry: the default policy allows defaultMaxAttempts attempts, each wait at most the cap", () =>
    Effect.gen(function*() {
      const policy = Waits.retry()
      for (let attempts = 1; attempts < Waits.defaultMaxAttempts; attempts++) {
        const delay = yield* Waits.nextRetryDelay(policy, attempts, { retryable: true })
        expect(Option.isSome(delay)).toBe(true)
        expect(Duration.lessThanOrEqualTo(Option.getOrThrow(delay), Waits.defaultRetryCap)).toBe(true)
      }
      expect(yield* Waits.nextRetryDelay(policy, Waits.defaultMaxAttempts, { retryable: true })).toEqual(Option.none())
    }))

  it.effect("propagation: asks again every interval while less than the timeout has passed, then gives up", () =>
    Effect.gen(function*() {
      const { exit, seen } = yield* attemptsOver(
        (attempt) =>
          Effect.retry(
            Effect.zipRight(attempt, Effect.fail("not visible yet")),
            Waits.propagation({ interval: "2 seconds", timeout: "7 seconds" })
          ),
        ["1999 millis", "1 milli", "2 seconds", "2 seconds", "2 seconds", "1 hour"]
      )
      // asked at 0, 2, 4, 6 s and, since 6 s was still under 7 s, once more at 8 s: at most
      // timeout + interval in all
      expect(seen).toEqual([1, 1, 2, 3, 4, 5, 5])
      expect(exit._tag).toBe("Failure")
    }))

  it.effect("dnsUdpRetry: a UDP query is asked dnsUdpTries times, without waiting in between", () =>
    Effect.gen(function*() {
      const { total } = yield* attemptsOver(
        (attempt) => Effect.retry(Effect.zipRight(attempt, Effect.fail("no answer")), Waits.dnsUdpRetry),
        []
      )
      expect(total).toBe(Waits.dnsUdpTries)
    }))

  it.effect("leaseRenewal: a held lease is renewed every third of its ttl, the first time a third in", () =>
    Effect.gen(function*() {
      const { seen } = yield* attemptsOver(
        // as the pipeline keeps a lease (Effect.schedule: the first renewal after the first wait), three renewals
        (attempt) => Effect.schedule(attempt, Schedule.intersect(Waits.leaseRenewal("90 seconds"), Schedule.recurs(3))),
        ["29999 millis", "1 milli", "30 seconds", "30 seconds", "1 hour"]
      )
      expect(seen).toEqual([0, 0, 1, 2, 3, 3])
    }))

  it.effect("leaseWait: asks again every interval until the wait is over", () =>
    Effect.gen(function*() {
      const { exit, seen } = yield* attemptsOver(
        (attempt) =>
          Effect.retry(
            Effect.zipRight(attempt, Effect.fail("held")),
            Waits.leaseWait({ interval: Waits.defaultLeaseWaitInterval, timeout: "3 seconds" })
          ),
        ["999 millis", "1 milli", "1 second", "1 second", "1 second", "1 hour"]
      )
      // asked at 0, 1, 2 and 3 s; then the 3 s are over
      expect(seen).toEqual([1, 1, 2, 3, 4, 4, 4])
      expect(exit._tag).toBe("Failure")
    }))

  it.effect("storageLock: tries again within milliseconds at first, never more than ~100 ms apart, until the timeout", () =>
    Effect.gen(function*() {
      const run = (timeout?: Duration.DurationInput) =>
        Effect.map(
          Schedule.run(Schedule.delays(Waits.storageLock(timeout)), 0, Array.from({ length: 2000 }, () => undefined)),
          (delays) => Chunk.toReadonlyArray(delays).map(Duration.toMillis).filter((ms) => ms > 0)
        )
      const delays = yield* run("10 seconds")
      // ~10 s of waits of at most 120 ms (100 ms, jittered by up to a fifth): about a hundred tries, then it gives up
      expect(delays.length).toBeGreaterThan(80)
      expect(delays.length).toBeLessThan(150)
      expect(Math.max(...delays)).toBeLessThanOrEqual(120)
      const total = delays.reduce((sum, ms) => sum + ms, 0)
      expect(total).toBeGreaterThanOrEqual(10_000)
      expect(total).toBeLessThan(10_200)
      // 2 ms, then 3 ms (each jittered): the first tries come within milliseconds
      expect(delays.slice(0, 2).every((ms) => ms < 4)).toBe(true)
      expect((yield* run()).reduce((sum, ms) => sum + ms, 0)).toBeGreaterThanOrEqual(30_000)
      expect(Waits.defaultStorageLockTimeout).toEqual(Duration.seconds(30))
    }))
})
