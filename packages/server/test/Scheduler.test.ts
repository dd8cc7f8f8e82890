import { Storage, type ServiceRecords } from "@acme/sdk"
import { Environment, Scheduler, ServerConfig, Tasks } from "@acme/server"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Context, Duration, Effect, Fiber, Layer, Option, Queue, Random, Schedule, SubscriptionRef, TestClock } from "effect"

describe("Scheduler", () => {
  it.effect("waits between 80 % and 120 % of the interval", () =>
    Effect.gen(function*() {
      const delays = yield* Schedule.run(
        Scheduler.schedule(Duration.hours(12)).pipe(Schedule.delays),
        0,
        Array.from({ length: 50 }, (_, i) => i)
      )
      const hours = Chunk.toReadonlyArray(delays).map((d) => Duration.toMillis(d) / 3_600_000)
      expect(Math.min(...hours)).toBeGreaterThanOrEqual(9.6)
      expect(Math.max(...hours)).toBeLessThanOrEqual(14.4)
      expect(new Set(hours).size).toBeGreaterThan(40)
    }).pipe(Effect.withRandom(Random.make("scheduler"))))

  it.scoped("queues a renewal of everything at start, then after the (jittered) interval, and follows a new interval", () =>
    Effect.gen(function*() {
      const submitted = yield* Queue.unbounded<Tasks.Request>()
      const tasks = Tasks.Tasks.of({
        submit: (request) =>
          Effect.as(Queue.offer(submitted, request), {
            id: "t",
            action: request.action,
            status: "queued",
            requestedBy: request.requestedBy,
            createdAt: "2026-01-01T00:00:00.000Z"
          } satisfies ServiceRecords.Task),
        get: () => Effect.succeed(Option.none()),
        finished: Queue.unbounded()
      })
      const storage = yield* Storage.makeMemory
      // the scheduler reads only server.interval: the settings and the context are never looked at
      const active = (interval: Duration.Duration, generation: number): Environment.Active => ({
        server: { ...ServerConfig.defaults, interval },
        settings: { config: undefined as never, eab: Option.none() },
        context: Context.empty() as never,
        records: storage.records ?? expect.unreachable(),
        generation
      })
      const changes = yield* SubscriptionRef.make(active(Duration.hours(1), 1))
      const current = Environment.Current.of({
        get: SubscriptionRef.get(changes),
        use: (f) => Effect.flatMap(SubscriptionRef.get(changes), f),
        reload: Effect.die("not in this test"),
        changes
      })
      yield* Layer.build(Scheduler.layer.pipe(
        Layer.provide(Layer.succeed(Tasks.Tasks, tasks)),
        Layer.provide(Layer.succeed(Environment.Current, current))
      ))
      const first = yield* Queue.take(submitted)
      expect(first).toEqual({ action: "renew", requestedBy: "scheduler" })
      yield* TestClock.adjust("47 minutes")
      expect(yield* Queue.size(submitted)).toBe(0)
      const second = yield* Effect.fork(Queue.take(submitted))
      yield* TestClock.adjust("26 minutes")
      expect((yield* Fiber.join(second)).requestedBy).toBe("scheduler")
      // a reload with another interval: a run at once, then the new interval
      yield* SubscriptionRef.set(changes, active(Duration.hours(10), 2))
      yield* Queue.take(submitted)
      yield* TestClock.adjust("7 hours")
      expect(yield* Queue.size(submitted)).toBe(0)
      yield* TestClock.adjust("6 hours")
      expect(yield* Queue.size(submitted)).toBe(1)
    }))
})
