/**
 * One simulated year of renewals with cert-manager#8993's case: the CA answers with the window of
 * the certificate before, open already when this one was issued. Following it would renew on every
 * run (cert-manager issued five certificates in ten seconds); it is asked for once more, then
 * ignored for the lifetime rule (support/simulation.ts explains the setting and the counts).
 */
import { describe } from "@effect/vitest"
import { staleSixDayYear, staleWindows } from "./support/simulation.js"

describe("one simulated year: a window open at issuance is ignored for the lifetime rule (no storm)", () => {
  staleSixDayYear(staleWindows.openAtIssuance)
})
