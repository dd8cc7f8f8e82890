/**
 * The fencing scenario the coordination tests run on each storage: a first `acme renew` is stopped
 * (SIGSTOP) when `name` reaches finalize, a second one renews the certificate once the first one's
 * lease has expired, then the first one goes on (SIGCONT). Both results are checked here the same
 * way for every storage: the second renewed it, without resuming the first one's run; the first one
 * reports that it lost its lease, with the typed error. What is stored is for the caller to check.
 */
import type { Reporter } from "@acme/sdk"
import { expect } from "@effect/vitest"
import { Effect } from "effect"
import { reportOf } from "./checks.js"
import { acme, acmeWatched, type Options, type Result } from "./cli.js"

const certificateOf = (report: Reporter.RunReport, name: string): Reporter.CertificateReport => {
  const found = report.certificates.find((certificate) => certificate.name === name)
  expect(found, `${name} in ${report.runId}`).toBeDefined()
  return found as Reporter.CertificateReport
}

/**
 * Runs the scenario with a lease ttl of `leaseTtl` seconds (the configuration's), and returns the
 * serial the second run reported and the first run's result.
 */
export const pausedPastItsLease = (name: string, options: Options, leaseTtl = 2) =>
  Effect.gen(function*() {
    let stop: (pid: number) => void = () => {}
    const stopped = new Promise<number>((resolve) => (stop = resolve))
    const first = acmeWatched(["renew", "--json"], options, (line, child) => {
      if (line.endsWith(`${name}: stage finalize started`) && child.pid !== undefined && child.kill("SIGSTOP")) {
        stop(child.pid)
      }
    })
    const firstPid = yield* Effect.promise(() => Promise.race([stopped, first.then(() => 0)]))
    expect(firstPid, "the first run was stopped at finalize").toBeGreaterThan(0)
    let secondSerial = ""
    try {
      // past the first holder's lease: the certificate is free for another run
      yield* Effect.sleep(`${leaseTtl + 1} seconds`)
      const second: Result = yield* Effect.promise(() => acme(["renew", "--json"], options))
      expect(second.code, second.stderr.slice(-1500)).toBe(0)
      const report = reportOf(second)
      const renewed = certificateOf(report, name)
      expect(renewed.action, renewed.reason).toBe("renewed")
      // the first run is alive: its run is not the second one's to resume
      expect(report.resumed).toBe(false)
      secondSerial = renewed.serial ?? ""
    } finally {
      process.kill(firstPid, "SIGCONT")
    }
    const result = yield* Effect.promise(() => first)
    // the first one reports that it lost the lease: a failure, with the typed error
    expect(result.code, result.stderr.slice(-1500)).toBe(1)
    const lost = certificateOf(reportOf(result), name)
    expect(lost.action).toBe("failed")
    expect(lost.error?.type).toBe("LeaseError")
    expect(lost.reason).toMatch(
      new RegExp(`^this run lost its lease on ${name} and stopped working on it: the lease on ${name} \\(token 1\\) was lost`)
    )
    expect(result.stderr).toContain(`this run lost its lease on ${name}`)
    return { secondSerial, first: result }
  })
