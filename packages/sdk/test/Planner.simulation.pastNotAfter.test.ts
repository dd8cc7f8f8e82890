/**
 * One simulated year of renewals with an absurd ARI window, beginning after the certificate
 * expires: asked for once more, then ignored for the lifetime rule (support/simulation.ts explains
 * the setting and the counts).
 */
import { describe } from "@effect/vitest"
import { staleSixDayYear, staleWindows } from "./support/simulation.js"

describe("one simulated year: a window past notAfter is ignored for the lifetime rule", () => {
  staleSixDayYear(staleWindows.pastNotAfter)
})
