/**
 * One simulated year of renewals by lifetime, the CA offering no ARI: 6-day and 45-day certificates
 * (support/simulation.ts explains the setting and the counts).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { days, everyDay, simulate } from "./support/simulation.js"

describe.concurrent("one simulated year of renewals by lifetime (the CA offers no ARI)", () => {
  it.effect("6-day certificates: renewed every 3 days, when half of the lifetime is left: 122 orders", () =>
    Effect.gen(function*() {
      const outcome = yield* simulate({ lifetime: "6 days" }, everyDay)
      expect(outcome.orderDays).toEqual(days(0, 3, 364))
      expect(outcome.orderDays).toHaveLength(122)
      expect(outcome.renewalInfo).toEqual([])
      expect(outcome.reasons[1]).toMatch(/^skipped: .* left of 6 days; renewal planned for .*\(when half of its short lifetime is left\)$/)
      expect(outcome.reasons[3]).toMatch(/^renewed: .* left of 6 days; due when half of its short lifetime is left$/)
    }), 300_000)

  it.effect("45-day certificates: renewed every 30 days, when a third is left: 13 orders", () =>
    Effect.gen(function*() {
      const outcome = yield* simulate({ lifetime: "45 days" }, everyDay)
      expect(outcome.orderDays).toEqual(days(0, 30, 364))
      expect(outcome.orderDays).toHaveLength(13)
      expect(outcome.reasons[30]).toMatch(/^renewed: .* left of 45 days; due when a third of its lifetime is left$/)
    }), 300_000)
})
