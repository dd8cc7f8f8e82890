/**
 * One simulated year of renewals, on the TestClock, through the real pipeline (`Renewal.renew`:
 * scan, plan, every stage, storage): a 6-day and a 45-day certificate, by lifetime and by the CA's
 * ARI window, and with ARI windows that are stale or absurd (cert-manager#8993: a stale window made
 * it issue five certificates in ten seconds). The CA is `support/simulatedCa.ts`, since Pebble cannot
 * run through a simulated year (see there).
 *
 * The renewal runs once a day at midnight and the CA issues at the run's time with notBefore an
 * hour earlier, so every expected count below follows from the documented rules, whatever the
 * per-certificate jitter (at most 2% of the lifetime, a day at most) picks:
 *
 * - 6 days by lifetime: due when half is left, 71 h after the run that issued it, less up to 2.9 h of
 *   jitter: the run 72 h (3 days) later renews it. Days 0, 3, …, 363: 122 orders.
 * - 45 days by lifetime: due when a third is left, 719 h after issuance, less up to 21.6 h: not at
 *   696 h, at 720 h (30 days). Days 0, 30, …, 360: 13 orders.
 * - 6 days with a window 36 h – 44 h after issuance: the run 2 days later. Days 0, 2, …, 364: 183.
 * - 45 days with a window 20 d 1 h – 20 d 19 h after issuance: 21 days later. Days 0, 21, …, 357: 18.
 * - a stale or absurd window: planned by lifetime, as without ARI (122 and 13), where following it
 *   would have renewed on every run (365).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { after, DAY, days, everyDay, HOUR, simulate } from "./support/simulation.js"

describe.concurrent("one simulated year of renewals", () => {
  describe("by lifetime (the CA offers no ARI)", () => {
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

  describe("by the CA's ARI window", () => {
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
})
