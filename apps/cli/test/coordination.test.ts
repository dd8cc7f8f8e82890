/**
 * Coordination on one host: `acme renew` processes sharing one file system storage never work on the
 * same certificate, against Pebble.
 *
 * - Three processes started together, ten rounds over five certificates (each round starts with an
 *   `acme revoke` of all five, which makes them due): the CA gets exactly five new orders a round,
 *   every process exits 0, each certificate is renewed by exactly one process and reported skipped
 *   by the others (being renewed by that process's run, or renewed meanwhile, or valid), the live
 *   files are the renewing process's, and the three runs have three run ids.
 * - A process SIGKILLed right after it placed an order: the next `acme renew` takes its leases and
 *   its run over at once (its pid is gone, the lease ttl is ten minutes) and finishes that order.
 * - Fencing: a holder SIGSTOPped past its lease's expiry; another run takes the certificate and
 *   finishes; the first, let go on, has its writes refused and reports that it lost the lease.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { AcmeProtocol, type Reporter } from "@acme/sdk"
import { Pebble, PebbleHttpClient } from "@acme/testing"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { assertComplete, liveSerial, ordersAtCa, reportOf } from "./support/checks.js"
import { acme, type Result, temporaryFolder } from "./support/cli.js"
import { pausedPastItsLease } from "./support/fencing.js"

const fixture = (
  pebble: Pebble.Service,
  label: string,
  names: ReadonlyArray<string>,
  renewal: Record<string, unknown> = {}
) => {
  const folder = temporaryFolder(`acme-coordination-${label}-`)
  fs.writeFileSync(path.join(folder.path, "ca.pem"), pebble.caBundle)
  const domain = (name: string) => `${name}.${label}.coordination.example.test`
  fs.writeFileSync(
    path.join(folder.path, "acme.yaml"),
    JSON.stringify({
      ca: { directory: pebble.directoryUrl, trust: ["./ca.pem"] },
      account: { email: "coordination@example.test" },
      storage: { path: "./storage" },
      renewal,
      certificates: names.map((name) => ({
        name,
        domains: [domain(name)],
        challenge: { type: "dns-01", provider: "challtestsrv", url: pebble.challtestsrvUrl }
      }))
    })
  )
  return { ...folder, storage: path.join(folder.path, "storage"), domain }
}

const certificateOf = (report: Reporter.RunReport, name: string) => {
  const found = report.certificates.find((certificate) => certificate.name === name)
  expect(found, `${name} in ${report.runId}`).toBeDefined()
  return found as Reporter.CertificateReport
}

const heldBy = /^being renewed by run (\S+) \(pid (\d+)\)$/

const succeeded = (result: Result, what: string) => {
  expect(result.code, `${what}: ${result.stderr.slice(-1500)}`).toBe(0)
  return reportOf(result)
}

const Env = Layer.unwrapEffect(
  Effect.map(Pebble.Pebble, (pebble) => AcmeProtocol.layer({ directoryUrl: pebble.directoryUrl }))
).pipe(Layer.provide(PebbleHttpClient.layer), Layer.provideMerge(Pebble.layer({ challengeServers: "external" })))

layer(Env, { excludeTestServices: true, timeout: 300_000 })("acme renew processes sharing one storage", (it) => {
  it.effect("three at once, ten rounds over five certificates: five orders a round, each renewed by one process", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const names = ["alpha", "bravo", "charlie", "delta", "echo"]
      const folder = fixture(pebble, "rounds", names)
      let heldSeen = 0
      try {
        let orders = 0
        for (let round = 1; round <= 10; round++) {
          if (round > 1) {
            // revoked certificates are due: every round renews all five
            const revoked = yield* Effect.promise(() =>
              acme(["revoke", ...names.flatMap((name) => ["--name", name]), "--json"], { cwd: folder.path })
            )
            expect(revoked.code, `round ${round}: revoke: ${revoked.stderr.slice(-800)}`).toBe(0)
          }
          const results = yield* Effect.promise(() =>
            Promise.all([1, 2, 3].map(() => acme(["renew", "--json"], { cwd: folder.path })))
          )
          const reports = results.map((result, index) => succeeded(result, `round ${round}, process ${index + 1}`))
          // three runs, three run records
          expect(new Set(reports.map((report) => report.runId)).size, `round ${round}`).toBe(3)
          for (const name of names) {
            const renewing = reports.flatMap((report, index) =>
              certificateOf(report, name).action === "renewed" ? [{ report, result: results[index] as Result }] : []
            )
            expect(renewing.map((r) => r.report.runId), `round ${round}: ${name} renewed by`).toHaveLength(1)
            const renewer = renewing[0] as { readonly report: Reporter.RunReport; readonly result: Result }
            for (const report of reports.filter((r) => r !== renewer.report)) {
              const other = certificateOf(report, name)
              expect(other.action, `round ${round}: ${name} in ${report.runId}: ${other.reason}`).toBe("skipped")
              const held = heldBy.exec(other.reason)
              if (held !== null) {
                heldSeen++
                // the run it was left to is one of this round's, named with its process's pid (it may
                // be a run that took the lease after the renewer let go, found it renewed, and let go)
                const holder = reports.findIndex((r) => r.runId === held[1])
                expect(holder, `round ${round}: ${name}: ${other.reason}`).toBeGreaterThanOrEqual(0)
                expect(Number(held[2]), `round ${round}: ${name}: ${other.reason}`).toBe(results[holder]?.pid)
              }
            }
            // the files on disk are the ones the renewing process reported
            expect(liveSerial(folder.storage, name, folder.domain(name)), `round ${round}: ${name}`).toBe(
              // both as openssl prints a serial (the report keeps the CA's bytes)
              certificateOf(renewer.report, name).serial
            )
          }
          assertComplete(folder.storage)
          const now = (yield* ordersAtCa(folder.storage)).length
          expect(now - orders, `round ${round}: new orders at the CA`).toBe(5)
          orders = now
        }
        // the processes did meet: at least once a process left a certificate to another one
        expect(heldSeen).toBeGreaterThan(0)
      } finally {
        folder.remove()
      }
    }), 300_000)

  it.effect("SIGKILL of the holder: the next run takes over at once and finishes the order it placed", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const names = ["kilo", "lima", "mike"]
      const folder = fixture(pebble, "kill", names, { leaseTtl: "10 minutes" })
      try {
        const killed = yield* Effect.promise(() =>
          acme(["renew", "--json"], { cwd: folder.path, env: { ACME_TEST_CRASH_AT: "after:order" } })
        )
        expect(killed.signal, killed.stderr.slice(-800)).toBe("SIGKILL")
        // what the dead process left: an unfinished run and a lease that lasts ten more minutes
        const [runFile] = fs.readdirSync(path.join(folder.storage, "runs")).filter((file) => file.endsWith(".json"))
        const killedRun = JSON.parse(fs.readFileSync(path.join(folder.storage, "runs", runFile ?? ""), "utf8"))
        const lease = JSON.parse(fs.readFileSync(path.join(folder.storage, "leases", "kilo.json"), "utf8"))
        expect(lease).toMatchObject({ released: false, lease: { holder: { pid: killed.pid } } })
        expect(Date.parse(lease.lease.expiresAt)).toBeGreaterThan(Date.now() + 60_000)

        const next = succeeded(yield* Effect.promise(() => acme(["renew", "--json"], { cwd: folder.path })), "next run")
        expect(next.resumed).toBe(true)
        expect(next.runId).toBe(killedRun.runId)
        expect(next.certificates.map((c) => [c.name, c.action])).toEqual(names.map((name) => [name, "renewed"]))
        // one order per certificate: the one placed before the kill was finished, not placed again
        expect((yield* ordersAtCa(folder.storage)).length).toBe(3)
        assertComplete(folder.storage)
        for (const name of names) {
          const serial = liveSerial(folder.storage, name, folder.domain(name))
          expect((yield* pebble.certificateStatus(serial)).status, name).toBe("Valid")
        }
      } finally {
        folder.remove()
      }
    }), 120_000)

  it.effect("a holder stopped past its lease's expiry: the next holder's certificate stays, the first one's writes are refused", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const folder = fixture(pebble, "fence", ["oscar"], { leaseTtl: "2 seconds" })
      try {
        const { secondSerial } = yield* pausedPastItsLease("oscar", { cwd: folder.path })
        // the stored certificate is the second run's
        const storedSerial = liveSerial(folder.storage, "oscar", folder.domain("oscar"))
        expect(storedSerial).toBe(secondSerial)
        expect((yield* pebble.certificateStatus(storedSerial)).status).toBe("Valid")
        assertComplete(folder.storage)
      } finally {
        folder.remove()
      }
    }), 120_000)
})
