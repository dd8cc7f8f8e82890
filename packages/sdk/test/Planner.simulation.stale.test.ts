/**
 * One simulated year of renewals, continued from Planner.simulation.test.ts (which explains the
 * setting and the counts; the two files run side by side): ARI windows that are stale or absurd
 * (cert-manager#8993: a stale window made it issue five certificates in ten seconds) are asked for
 * once more, then ignored for the lifetime rule, so the counts are those of the lifetime rule (122
 * for 6-day certificates, 13 for 45-day ones) where following the window would have renewed on
 * every run (365); and renewalInfo's Retry-After decides when the CA is asked again.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { after, DAY, days, everyDay, HOUR, simulate, START } from "./support/simulation.js"

describe.concurrent("one simulated year of renewals", () => {
  describe("a stale or absurd ARI window is asked for once more, then ignored for the lifetime rule: no storm", () => {
    const stale = [
      ["a window that ended before the certificate was issued", after(-2 * DAY, -DAY), "it ended before this certificate was issued"],
      [
        "the window of the certificate before, open at issuance (cert-manager#8993)",
        after(-30 * 60_000, 30 * 60_000),
        "it was open already when this certificate was issued"
      ],
      [
        "a window past notAfter",
        (certificate: { readonly notAfter: number }) => ({
          start: certificate.notAfter + DAY,
          end: certificate.notAfter + 2 * DAY
        }),
        "it begins after the certificate expires"
      ]
    ] as const

    for (const [what, window, problem] of stale) {
      it.effect(`6-day certificates, ${what}: 122 orders, as by lifetime`, () =>
        Effect.gen(function*() {
          const outcome = yield* simulate({ lifetime: "6 days", window }, everyDay)
          expect(outcome.orderDays).toEqual(days(0, 3, 364))
          // each certificate's first answer is asked for once more at once; then once a run (its
          // Retry-After, 6 hours, is shorter than a day), never again at once for the same window
          const certificates = outcome.orders.length
          const runsWithACertificate = 364
          expect(outcome.renewalInfo).toHaveLength(runsWithACertificate + certificates)
          expect(outcome.reasons[1]).toContain(`is ignored: ${problem}`)
          expect(outcome.reasons[1]).toMatch(/; by lifetime: .* left of 6 days; renewal planned for /)
          expect(outcome.reasons[3]).toMatch(new RegExp(`^renewed: the CA's suggested renewal window .* is ignored: ${problem}`))
        }), 300_000)
    }

    it.effect("45-day certificates, a window that ended before issuance: 13 orders, as by lifetime", () =>
      Effect.gen(function*() {
        const outcome = yield* simulate({ lifetime: "45 days", window: after(-2 * DAY, -DAY) }, everyDay)
        expect(outcome.orderDays).toEqual(days(0, 30, 364))
      }), 300_000)
  })

  describe("renewalInfo's Retry-After is honoured", () => {
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
})
