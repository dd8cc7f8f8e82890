/**
 * Coordination through Postgres (`storage.type: postgres`), against Pebble and a throwaway Postgres
 * server (`@acme/testing`'s `Postgres`):
 *
 * - three worker processes renew 30 certificates from one configuration (`--wait`, so that each
 *   also finishes what another one holds once it lets go), one of them SIGKILLed in the middle of
 *   a certificate: every certificate ends up valid, stored whole (its key matches it), and ordered
 *   once, except the ones the killed process had in flight (ordered at most twice);
 * - fencing: a holder SIGSTOPped past its lease's expiry, another run takes the certificate and
 *   finishes, the first one's writes are refused in the database and it reports the lost lease.
 */
import { createPrivateKey, X509Certificate } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { CertificateName, type Reporter, type Storage } from "@acme/sdk"
import { Pebble, Postgres, Requirement } from "@acme/testing"
import { describe, expect, it, layer } from "@effect/vitest"
import { Effect, Option } from "effect"
import { ordersByDomain, reportOf } from "./support/checks.js"
import { Env, keyText, openStorage } from "./support/postgres.js"
import { acme, acmeWatched, type Result, temporaryFolder } from "./support/cli.js"
import { pausedPastItsLease } from "./support/fencing.js"

const fixture = (
  pebble: Pebble.Service,
  databaseUrl: string,
  label: string,
  names: ReadonlyArray<string>,
  renewal: Record<string, unknown> = {}
) => {
  const folder = temporaryFolder(`acme-coordination-pg-${label}-`)
  fs.writeFileSync(path.join(folder.path, "ca.pem"), pebble.caBundle)
  const domain = (name: string) => `${name}.${label}.pg.example.test`
  fs.writeFileSync(
    path.join(folder.path, "acme.yaml"),
    JSON.stringify({
      ca: { directory: pebble.directoryUrl, trust: ["./ca.pem"] },
      account: { email: "coordination@example.test" },
      storage: { type: "postgres", url: { env: "ACME_DATABASE_URL" }, encryptionKey: { env: "ACME_STORAGE_KEY" } },
      renewal,
      certificates: names.map((name) => ({
        name,
        domains: [domain(name)],
        challenge: { type: "dns-01", provider: "challtestsrv", url: pebble.challtestsrvUrl }
      }))
    })
  )
  const env = { ACME_DATABASE_URL: databaseUrl, ACME_STORAGE_KEY: keyText }
  return { ...folder, domain, env }
}

/** the certificate is stored whole: a chain whose leaf names the domain and matches the stored key; its serial */
const storedSerial = (storage: Storage.Service, name: string, domain: string) =>
  Effect.gen(function*() {
    const stored = Option.getOrThrow(yield* storage.loadCertificate(CertificateName.make(name)))
    const keyPem = Option.getOrThrow(yield* storage.loadCertificateKey(CertificateName.make(name)))
    const leaf = new X509Certificate(stored.fullchainPem)
    expect(leaf.subjectAltName, name).toContain(`DNS:${domain}`)
    expect(leaf.checkPrivateKey(createPrivateKey(keyPem)), name).toBe(true)
    const serial = leaf.serialNumber.toLowerCase().replace(/^0+/, "")
    expect(stored.metadata.serialNumber.toLowerCase().replace(/^0+/, ""), name).toBe(serial)
    return serial
  })

const certificateOf = (report: Reporter.RunReport, name: string) =>
  report.certificates.find((certificate) => certificate.name === name)

const requirement = Postgres.requirement()

if (requirement._tag === "Fail") {
  it("PostgreSQL is there", () => {
    expect.fail(Requirement.message(requirement))
  })
}

describe.skipIf(requirement._tag !== "Run")(`coordination through Postgres${Requirement.note(requirement)}`, () => {
  layer(Env, { excludeTestServices: true, timeout: 300_000 })("acme renew processes sharing Postgres", (it) => {
    it.scoped("three workers, 30 certificates, one SIGKILLed mid-run: all valid, whole, and ordered once but for its own", () =>
      Effect.gen(function*() {
        const pebble = yield* Pebble.Pebble
        const postgres = yield* Postgres.Postgres
        const url = yield* postgres.createDatabase
        const names = Array.from({ length: 30 }, (_, i) => `w${String(i + 1).padStart(2, "0")}`)
        const folder = fixture(pebble, url, "workers", names)
        try {
          const options = { cwd: folder.path, env: folder.env }
          const args = ["renew", "--json", "--wait", "3 minutes"]
          let presented = 0
          const killedLines: Array<string> = []
          const killed = acmeWatched(args, options, (line, child) => {
            killedLines.push(line)
            // in the middle of its third certificate: an order placed, its challenge being answered
            if (/: stage present started$/.test(line) && ++presented === 3) child.kill("SIGKILL")
          })
          const workers = yield* Effect.promise(() => Promise.all([killed, acme(args, options), acme(args, options)]))
          const [dead, ...alive] = workers as [Result, Result, Result]
          expect(dead.signal, dead.stderr.slice(-1500)).toBe("SIGKILL")
          const reports = alive.map((result) => {
            expect(result.code, result.stderr.slice(-1500)).toBe(0)
            return reportOf(result)
          })

          // every certificate was renewed by a worker that lived, or before the kill by the dead one
          const renewedByDead = new Set(
            killedLines.flatMap((line) => /\s(\S+): renewed:/.exec(line)?.[1] ?? []).filter((name) => names.includes(name))
          )
          for (const name of names) {
            const renewedBy = reports.filter((report) => certificateOf(report, name)?.action === "renewed").length
            expect(renewedBy + (renewedByDead.has(name) ? 1 : 0), name).toBe(1)
          }

          const storage = yield* openStorage(url)
          for (const name of names) {
            const serial = yield* storedSerial(storage, name, folder.domain(name))
            expect((yield* pebble.certificateStatus(serial)).status, name).toBe("Valid")
          }
          // ordered once, but for what the dead worker had begun and not finished
          const begun = new Set(killedLines.flatMap((line) => /\s(\S+): stage order started$/.exec(line)?.[1] ?? []))
          const inFlight = [...begun].filter((name) => !renewedByDead.has(name))
          expect(inFlight.length, killedLines.slice(-10).join("\n")).toBeGreaterThan(0)
          const orders = yield* ordersByDomain(storage)
          for (const name of names) {
            const count = orders.get(folder.domain(name)) ?? 0
            expect(count, name).toBeGreaterThanOrEqual(1)
            expect(count, name).toBeLessThanOrEqual(inFlight.includes(name) ? 2 : 1)
          }
          // no certificate is left leased; the only live lease is the dead worker's run's own (until it
          // expires or a run of this host claims that run, its pid being gone)
          const leases = yield* storage.listLeases
          expect(leases.map((lease) => [lease.certificate.startsWith("@run."), lease.holder.pid])).toEqual([[true, dead.pid]])
        } finally {
          folder.remove()
        }
      }), 300_000)

    it.scoped("a holder stopped past its lease's expiry: its writes are refused, the next holder's certificate stays", () =>
      Effect.gen(function*() {
        const pebble = yield* Pebble.Pebble
        const postgres = yield* Postgres.Postgres
        const url = yield* postgres.createDatabase
        const folder = fixture(pebble, url, "fence", ["papa"], { leaseTtl: "2 seconds" })
        try {
          const { secondSerial } = yield* pausedPastItsLease("papa", { cwd: folder.path, env: folder.env })
          const storage = yield* openStorage(url)
          const serial = yield* storedSerial(storage, "papa", folder.domain("papa"))
          expect(serial).toBe(secondSerial.toLowerCase().replace(/^0+/, ""))
        } finally {
          folder.remove()
        }
      }), 120_000)
  })
})
