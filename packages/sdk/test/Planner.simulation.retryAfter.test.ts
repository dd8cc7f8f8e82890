/**
 * renewalInfo's Retry-After decides when the CA is asked again: ten simulated days of hourly runs
 * (support/simulation.ts explains the setting).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { after, DAY, days, HOUR, simulate, START } from "./support/simulation.js"

describe.concurrent("renewalInfo's Retry-After is honoured", () => {
  it.effect.each([
    ["6 hours", 6, 40],
    ["1 day", 24, 10]
  ] as const)("runs every hour for 10 days, Retry-After %s: asked every %i hours (%i times)", ([retryAfter, hours, count]) =>
    Effect.gen(function*() {
      const outcome = yield* simulate(
        { lifetime: "45 days", window: after(30 * DAY, 31 * DAY), retryAfter },
        { runs: 240, every: "1 hour" }
      )
      expect(outcome.orderDays).toEqual([0])
      // first asked by the run after the issuance, then each time the answer's Retry-After has passed
      expect(outcome.renewalInfo.map((at) => (at - START) / HOUR)).toEqual(days(1, hours, 239))
      expect(outcome.renewalInfo).toHaveLength(count)
    }), 300_000)
})
