/**
 * Runs of `acme renew` through a simulated year (Planner.simulation.*.test.ts): the real pipeline
 * (`Renewal.renew`: scan, plan, every stage, storage) on the TestClock against `simulatedCa.ts`
 * (Pebble cannot run through a simulated year, see there), with what the CA saw and each run's reason.
 *
 * The renewal runs once a day at midnight and the CA issues at the run's time with notBefore an
 * hour earlier, so every expected count follows from the documented rules, whatever the
 * per-certificate jitter (at most 2% of the lifetime, a day at most) picks:
 *
 * - 6 days by lifetime: due when half is left, 71 h after the run that issued it, less up to 2.9 h of
 *   jitter: the run 72 h (3 days) later renews it. Days 0, 3, …, 363: 122 orders.
 * - 45 days by lifetime: due when a third is left, 719 h after issuance, less up to 21.6 h: not at
 *   696 h, at 720 h (30 days). Days 0, 30, …, 360: 13 orders.
 * - 6 days with a window 36 h – 44 h after issuance: the run 2 days later. Days 0, 2, …, 364: 183.
 * - 45 days with a window 20 d 1 h – 20 d 19 h after issuance: 21 days later. Days 0, 21, …, 357: 18.
 * - a stale or absurd window (cert-manager#8993: a stale window made it issue five certificates in
 *   ten seconds) is asked for once more, then ignored for the lifetime rule: 122 and 13 orders, as
 *   without ARI, where following the window would have renewed on every run (365).
 *
 * The year is split over several files (each issuance goes through the whole pipeline, so a case
 * costs about its number of orders) so that vitest runs them side by side.
 */
import { ChallengeSolver, Planner, Renewal, RenewalConfig, RenewalSettings, Reporter, Storage } from "@acme/sdk"
import { expect, it } from "@effect/vitest"
import { type Duration, Effect, Layer, Logger, LogLevel, Option, Schema, TestClock } from "effect"
import * as SimulatedCa from "./simulatedCa.js"

export const HOUR = 3_600_000
export const DAY = 24 * HOUR
export const START = Date.parse("2027-01-04T00:00:00Z")

const settings = (directory: string): RenewalSettings.Settings => ({
  config: Schema.decodeUnknownSync(RenewalConfig.RenewalConfig)({
    ca: { directory },
    storage: { path: "memory" },
    certificates: [{ name: "site", domains: ["site.example.test"], challenge: { type: "http-01" } }]
  }),
  eab: Option.none()
})

interface Outcome {
  /** days (since the start) of the orders */
  readonly orderDays: ReadonlyArray<number>
  readonly orders: ReadonlyArray<{ readonly at: number; readonly replaces: string | undefined }>
  readonly renewalInfo: ReadonlyArray<number>
  /** every run's reason for the certificate */
  readonly reasons: ReadonlyArray<string>
}

/** `runs` runs of `acme renew`, `every` apart, against a CA issuing with `ca`'s lifetimes and windows. */
export const simulate = (ca: SimulatedCa.Options, options: { readonly runs: number; readonly every: Duration.DurationInput }) =>
  Effect.gen(function*() {
    yield* TestClock.setTime(START)
    const simulated = yield* SimulatedCa.make(ca)
    const reasons: Array<string> = []
    yield* Effect.gen(function*() {
      for (let run = 0; run < options.runs; run++) {
        const report = yield* Renewal.renew()
        const site = report.certificates[0]
        expect(site?.action, site?.error?.message).not.toBe("failed")
        reasons.push(`${site?.action}: ${site?.reason}`)
        yield* TestClock.adjust(options.every)
      }
    }).pipe(
      Effect.provide(
        Layer.mergeAll(
          simulated.layer,
          Storage.layerMemory,
          Planner.layer(),
          Reporter.layer,
          ChallengeSolver.layer,
          RenewalSettings.layer(settings(simulated.directoryUrl)),
          // a year of runs would print thousands of lines; the reasons are collected instead
          Logger.minimumLogLevel(LogLevel.None)
        )
      )
    )
    const log = yield* simulated.log
    return {
      orderDays: log.orders.map((order) => (order.at - START) / DAY),
      orders: log.orders,
      renewalInfo: log.renewalInfo,
      reasons
    } satisfies Outcome
  })

export const everyDay = { runs: 365, every: "1 day" } as const
export const days = (from: number, step: number, last: number) =>
  Array.from({ length: Math.floor((last - from) / step) + 1 }, (_, i) => from + i * step)

/** the CA's window, relative to the issuance */
export const after = (start: number, end: number) => (certificate: { readonly issuedAt: number }) => ({
  start: certificate.issuedAt + start,
  end: certificate.issuedAt + end
})


/** ARI windows that are stale or absurd, with what the reason says about each */
export const staleWindows = {
  endedBeforeIssuance: {
    what: "a window that ended before the certificate was issued",
    window: after(-2 * DAY, -DAY),
    problem: "it ended before this certificate was issued"
  },
  openAtIssuance: {
    what: "the window of the certificate before, open at issuance (cert-manager#8993)",
    window: after(-30 * 60_000, 30 * 60_000),
    problem: "it was open already when this certificate was issued"
  },
  pastNotAfter: {
    what: "a window past notAfter",
    window: (certificate: { readonly notAfter: number }) => ({
      start: certificate.notAfter + DAY,
      end: certificate.notAfter + 2 * DAY
    }),
    problem: "it begins after the certificate expires"
  }
} as const

/**
 * A year of 6-day certificates whose CA answers with a stale or absurd window: ordered as by
 * lifetime (122 orders, where following the window would order on every run), each certificate's
 * first answer asked for once more at once and then once a run, and the reason saying why.
 */
export const staleSixDayYear = (stale: (typeof staleWindows)[keyof typeof staleWindows]) =>
  it.effect(`6-day certificates, ${stale.what}: 122 orders, as by lifetime`, () =>
    Effect.gen(function*() {
      const outcome = yield* simulate({ lifetime: "6 days", window: stale.window }, everyDay)
      expect(outcome.orderDays).toEqual(days(0, 3, 364))
      // each certificate's first answer is asked for once more at once; then once a run (its
      // Retry-After, 6 hours, is shorter than a day), never again at once for the same window
      const certificates = outcome.orders.length
      const runsWithACertificate = 364
      expect(outcome.renewalInfo).toHaveLength(runsWithACertificate + certificates)
      expect(outcome.reasons[1]).toContain(`is ignored: ${stale.problem}`)
      expect(outcome.reasons[1]).toMatch(/; by lifetime: .* left of 6 days; renewal planned for /)
      expect(outcome.reasons[3]).toMatch(
        new RegExp(`^renewed: the CA's suggested renewal window .* is ignored: ${stale.problem}`)
      )
    }), 300_000)
