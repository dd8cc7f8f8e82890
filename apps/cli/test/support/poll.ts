/**
 * Waiting in real time for something a process does (a server, a CA): the attempt is repeated every
 * 200 ms until it gives a value, for at most `timeoutMillis`; the test fails naming what it waited for.
 */
import { expect } from "@effect/vitest"
import { Effect } from "effect"

export const poll = <A, E, R>(what: string, attempt: Effect.Effect<A | undefined, E, R>, timeoutMillis = 60_000) =>
  Effect.gen(function*() {
    const deadline = performance.now() + timeoutMillis
    for (;;) {
      const result = yield* attempt
      if (result !== undefined) return result
      if (performance.now() > deadline) return expect.unreachable(`timed out waiting for ${what}`)
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 200)))
    }
  })
