import { describe, expect, it } from "@effect/vitest"
import { Chunk, Clock, Duration, Effect, Fiber, Option, TestClock } from "effect"
import { accountRef, BASE, fakeCa, json, someNonce, withBasics } from "./support/fakeCa.js"
import { driveClock } from "./support/pipeline.js"

const authz = (status: string, retryAfter?: string) =>
  json(
    {
      identifier: { type: "dns", value: "poll.example.test" },
      status,
      challenges: [{
        type: "http-01",
        url: `${BASE}/chall/1`,
        status: status === "valid" ? "valid" : "pending",
        token: "t"
      }]
    },
    retryAfter !== undefined ? { headers: { "retry-after": retryAfter } } : {}
  )

/**
 * Lets the poll run (its requests are real async work) until it is done or asleep until a time
 * after the test clock's now: then the requests counted are all it will send before the clock moves.
 * A request's own timeout is a sleep too: wake-ups more than an hour away are not taken for the
 * poll's wait (the polls here give their requests a day).
 */
const settle = (fiber: Fiber.Fiber<unknown, unknown>) =>
  Effect.gen(function*() {
    for (let round = 0; round < 1000; round++) {
      if (Option.isSome(yield* Fiber.poll(fiber))) return
      const now = yield* Clock.currentTimeMillis
      if (Chunk.some(yield* TestClock.sleeps(), (wake) => wake > now && wake - now <= 3_600_000)) return
      yield* Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 5)))
    }
  })

describe("polling waits through Clock and honours Retry-After", () => {
  it.effect("waits exactly as long as Retry-After says between polls", () =>
    Effect.gen(function*() {
      const answers = [authz("pending", "5"), authz("pending", "5"), authz("valid")]
      const { acme, requests } = yield* fakeCa(withBasics((_, index) => answers[index] ?? authz("valid")), {
        requestTimeout: "1 day"
      })
      const account = yield* accountRef
      const fiber = yield* Effect.fork(acme.pollAuthorization({ nonce: someNonce, account, url: `${BASE}/authz/1` }))
      yield* settle(fiber)
      expect(yield* requests).toHaveLength(1)
      yield* TestClock.adjust("4900 millis")
      yield* settle(fiber)
      expect(yield* requests).toHaveLength(1)
      yield* TestClock.adjust("100 millis")
      yield* settle(fiber)
      expect(yield* requests).toHaveLength(2)
      yield* settle(fiber)
      yield* TestClock.adjust("5 seconds")
      const result = yield* Fiber.join(fiber)
      expect(result.value.status).toBe("valid")
      expect(yield* requests).toHaveLength(3)
    }))

  it.effect("without Retry-After the waits grow from the poll interval", () =>
    Effect.gen(function*() {
      const answers = [authz("pending"), authz("pending"), authz("pending"), authz("valid")]
      const { acme, requests } = yield* fakeCa(withBasics((_, index) => answers[index] ?? authz("valid")), {
        pollInterval: "1 second",
        requestTimeout: "1 day"
      })
      const fiber = yield* Effect.fork(
        acme.pollAuthorization({ nonce: someNonce, account: yield* accountRef, url: `${BASE}/authz/1` })
      )
      // polls at 0 s, 1 s, 2.5 s (1 + 1.5) and 4.75 s (2.5 + 2.25)
      for (const [advance, expected] of [[0, 1], [1000, 2], [1499, 2], [1, 3], [2249, 3], [1, 4]] as const) {
        yield* TestClock.adjust(Duration.millis(advance))
        yield* settle(fiber)
        expect(yield* requests).toHaveLength(expected)
      }
      expect((yield* Fiber.join(fiber)).value.status).toBe("valid")
    }))

  it.effect("gives up with PollTimeout when the next wait would pass the total time allowed", () =>
    Effect.gen(function*() {
      const { acme, requests } = yield* fakeCa(withBasics(() => authz("pending")), {
        pollInterval: "1 second",
        requestTimeout: "1 day"
      })
      const fiber = yield* Effect.fork(Effect.flip(
        acme.pollAuthorization({ nonce: someNonce, account: yield* accountRef, url: `${BASE}/authz/1`, timeout: "10 seconds" })
      ))
      const error = yield* driveClock(fiber)
      expect(error._tag).toBe("PollTimeout")
      expect(error._tag === "PollTimeout" && error.lastStatus).toBe("pending")
      // polls at 0, 1, 2.5, 4.75 and 8.125 s; the next (after 5.06 s) would end past 10 s
      expect(yield* requests).toHaveLength(5)
      expect(error._tag === "PollTimeout" && Duration.toMillis(error.waited)).toBe(8125)
    }))

  it.effect("a Retry-After beyond the deadline ends the poll at once instead of sleeping past it", () =>
    Effect.gen(function*() {
      const { acme, requests } = yield* fakeCa(withBasics(() => authz("pending", "3600")))
      const error = yield* Effect.flip(
        acme.pollAuthorization({ nonce: someNonce, account: yield* accountRef, url: `${BASE}/authz/1`, timeout: "1 minute" })
      )
      expect(error._tag).toBe("PollTimeout")
      expect(yield* requests).toHaveLength(1)
    }))

  it.effect("an order polled until valid stops at invalid with OrderFailed and the CA's error", () =>
    Effect.gen(function*() {
      const order = (status: string) =>
        json({
          status,
          identifiers: [{ type: "dns", value: "poll.example.test" }],
          authorizations: [],
          finalize: `${BASE}/finalize/1`,
          ...(status === "invalid"
            ? { error: { type: "urn:ietf:params:acme:error:badCSR", detail: "key too weak" } }
            : {})
        })
      const answers = [order("processing"), order("invalid")]
      const { acme } = yield* fakeCa(withBasics((_, index) => answers[index] ?? order("invalid")))
      const fiber = yield* Effect.fork(Effect.flip(
        acme.pollOrder({ nonce: someNonce, account: yield* accountRef, url: `${BASE}/order/1`, until: "valid" })
      ))
      yield* settle(fiber)
      yield* TestClock.adjust("5 seconds")
      const error = yield* Fiber.join(fiber)
      expect(error._tag).toBe("OrderFailed")
      expect(error.message).toContain("badCSR key too weak")
    }))
})
