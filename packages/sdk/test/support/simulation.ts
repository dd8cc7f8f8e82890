/**
 * Runs of `acme renew` through a simulated year (see Planner.simulation.*.test.ts): the real
 * pipeline on the TestClock against `simulatedCa.ts`, with what the CA saw and each run's reason.
 */
import { ChallengeSolver, Planner, Renewal, RenewalConfig, RenewalSettings, Reporter, Storage } from "@acme/sdk"
import { expect } from "@effect/vitest"
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

