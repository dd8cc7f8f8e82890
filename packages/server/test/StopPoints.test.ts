import { CrashPoint, Renewal } from "@acme/sdk"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Ref, TestClock } from "effect"
import * as StopPoints from "../src/internal/stopPoints.js"

/** a pipeline in miniature: each stage is announced, reached at its boundary, and takes a second */
const pipeline = (done: Ref.Ref<ReadonlyArray<string>>, stages: ReadonlyArray<string>) =>
  Effect.forEach(stages, (stage) =>
    Effect.gen(function*() {
      yield* CrashPoint.reach(`before:${stage}`)
      yield* Effect.flatMap(Renewal.Progress, (p) => p.emit({ _tag: "StageStarted", certificate: "web", stage }))
      yield* Effect.sleep(stage === "scheduler" ? "1 hour" : "1 second")
      yield* Effect.flatMap(Renewal.Progress, (p) => p.emit({ _tag: "StageFinished", certificate: "web", stage }))
      yield* Ref.update(done, (all) => [...all, stage])
    }), { discard: true })

describe("stop points (how a running task stops on shutdown)", () => {
  it.effect("once stopped, the program ends at its next stage boundary: the stage running finishes first", () =>
    Effect.gen(function*() {
      const points = yield* StopPoints.make
      const done = yield* Ref.make<ReadonlyArray<string>>([])
      const fiber = yield* Effect.fork(points.around(pipeline(done, ["order", "present", "verify"])))
      yield* TestClock.adjust("500 millis")
      expect(yield* points.waiting).toBe(false)
      yield* points.stop
      yield* TestClock.adjust("5 seconds")
      const exit = yield* Fiber.await(fiber)
      expect(Exit.isInterrupted(exit)).toBe(true)
      expect(yield* Ref.get(done)).toEqual(["order"])
    }))

  it.effect("a program waiting in the scheduler stage says so; without a stop it runs to its end", () =>
    Effect.gen(function*() {
      const points = yield* StopPoints.make
      const done = yield* Ref.make<ReadonlyArray<string>>([])
      const fiber = yield* Effect.fork(points.around(pipeline(done, ["finalize", "scheduler", "finalize"])))
      yield* TestClock.adjust("1500 millis")
      expect(yield* points.waiting).toBe(true)
      yield* TestClock.adjust("2 hours")
      expect(Exit.isSuccess(yield* Fiber.await(fiber))).toBe(true)
      expect(yield* points.waiting).toBe(false)
      expect(yield* Ref.get(done)).toEqual(["finalize", "scheduler", "finalize"])
    }))

  it.effect("the CrashPoint and Progress of the program's context still see every point and event", () =>
    Effect.gen(function*() {
      const points = yield* StopPoints.make
      const seen = yield* Ref.make<ReadonlyArray<string>>([])
      const done = yield* Ref.make<ReadonlyArray<string>>([])
      const fiber = yield* Effect.fork(points.around(pipeline(done, ["csr"])).pipe(
        Effect.provideService(CrashPoint.CrashPoint, { reach: (point) => Ref.update(seen, (all) => [...all, point]) }),
        Effect.provideService(Renewal.Progress, { emit: (event) => Ref.update(seen, (all) => [...all, event._tag]) })
      ))
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(fiber)
      expect(yield* Ref.get(seen)).toEqual(["before:csr", "StageStarted", "StageFinished"])
    }))
})
