/**
 * One simulated year of renewals by the CA's ARI window: 6-day and 45-day certificates, each
 * renewal naming the certificate it replaces (support/simulation.ts explains the setting and the counts).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { after, DAY, days, everyDay, HOUR, simulate } from "./support/simulation.js"

describe.concurrent("one simulated year of renewals by the CA's ARI window", () => {
  it.effect("6-day certificates with a window 36–44 hours after issuance: every 2 days, 183 orders, each a replacement", () =>
    Effect.gen(function*() {
      const outcome = yield* simulate({ lifetime: "6 days", window: after(36 * HOUR, 44 * HOUR) }, everyDay)
      expect(outcome.orderDays).toEqual(days(0, 2, 364))
      expect(outcome.orderDays).toHaveLength(183)
      // every renewal names the certificate it replaces (rate-limit exempt at Let's Encrypt)
      expect(outcome.orders.slice(1).every((order) => order.replaces !== undefined)).toBe(true)
      expect(outcome.reasons[1]).toMatch(/^skipped: the CA suggests renewing between /)
      expect(outcome.reasons[2]).toMatch(/^renewed: the CA's suggested renewal window \(.*\) has passed$/)
    }), 300_000)

  it.effect("45-day certificates with a window 20 d 1 h – 20 d 19 h after issuance: every 21 days, 18 orders", () =>
    Effect.gen(function*() {
      const outcome = yield* simulate(
        { lifetime: "45 days", window: after(20 * DAY + HOUR, 20 * DAY + 19 * HOUR) },
        everyDay
      )
      expect(outcome.orderDays).toEqual(days(0, 21, 364))
      expect(outcome.orderDays).toHaveLength(18)
    }), 300_000)
})
