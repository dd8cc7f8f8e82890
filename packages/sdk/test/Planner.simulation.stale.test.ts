/**
 * One simulated year of renewals with an ARI window that ended before the certificate was issued:
 * asked for once more, then ignored for the lifetime rule, so the counts are those of the lifetime
 * rule (122 for 6-day certificates, 13 for 45-day ones) where following the window would have
 * renewed on every run (365). support/simulation.ts explains the setting and the counts.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { days, everyDay, simulate, staleSixDayYear, staleWindows } from "./support/simulation.js"

describe.concurrent("one simulated year: a window that ended before issuance is ignored for the lifetime rule", () => {
  staleSixDayYear(staleWindows.endedBeforeIssuance)

  it.effect("45-day certificates, a window that ended before issuance: 13 orders, as by lifetime", () =>
    Effect.gen(function*() {
      const outcome = yield* simulate({ lifetime: "45 days", window: staleWindows.endedBeforeIssuance.window }, everyDay)
      expect(outcome.orderDays).toEqual(days(0, 30, 364))
      expect(outcome.reasons[1]).toContain(`is ignored: ${staleWindows.endedBeforeIssuance.problem}`)
    }), 300_000)
})
