/**
 * Fault suite: `acme renew` of three certificates SIGKILLed at 20 moments spread over the run. Twelve
 * are named crash points (`ACME_TEST_CRASH_AT`: stage boundaries and the inside of atomic writes,
 * reached by the first certificate or by the run), eight are kills as soon as a progress line says
 * that a stage of the second or third certificate started (the process dies somewhere inside it).
 *
 * The moments run in ten chains of two, in parallel, each on its own storage: a chain's first kill
 * hits a first issuance (empty storage, new account), the second `renew --force` over three live
 * certificates. After every kill the whole-file check runs (every file parses, every live
 * certificate matches its key), then a plain `acme renew` converges: exit 0, every certificate valid
 * at the CA, naming its domain and matching its key, and at most one order more than certificates
 * renewed (an order placed but not yet saved when the process died). After two of the chains, a
 * run is a no-op.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Pebble, PebbleHttpClient } from "@acme/testing"
import { AcmeProtocol } from "@acme/sdk"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { assertComplete, liveSerial, ordersAtCa, reportOf } from "./support/checks.js"
import { acme, acmeKilledWhen, type Result, temporaryFolder } from "./support/cli.js"

const names = ["alpha", "bravo", "charlie"] as const

/** A kill: at a named crash point, or when a progress line of `certificate` says `stage` started. */
type Moment = { readonly point: string } | { readonly certificate: string; readonly stage: string }

const chains: ReadonlyArray<ReadonlyArray<Moment>> = [
  [{ point: "write:account.key:before-rename" }, { point: "after:order" }],
  [{ point: "write:account.json:before-rename" }, { point: "after:present" }],
  [{ point: "done:account" }, { point: "done:verify" }],
  [{ point: "done:scan" }, { point: "after:csr" }],
  [{ point: "done:finalize" }, { point: "write:privkey.pem:before-rename" }],
  [{ point: "done:download" }, { point: "write:live:before-swap" }],
  [{ certificate: "bravo", stage: "order" }, { point: "done:store" }],
  [{ certificate: "charlie", stage: "verify" }, { certificate: "bravo", stage: "finalize" }],
  [{ certificate: "bravo", stage: "present" }, { certificate: "charlie", stage: "csr" }],
  [{ certificate: "charlie", stage: "finalize" }, { certificate: "bravo", stage: "store" }]
]

const describeMoment = (moment: Moment) =>
  "point" in moment ? moment.point : `${moment.certificate}: stage ${moment.stage} started`

const fixture = (pebble: Pebble.Service, chain: number) => {
  const folder = temporaryFolder(`acme-kill-${chain}-`)
  fs.writeFileSync(path.join(folder.path, "ca.pem"), pebble.caBundle)
  const domain = (name: string) => `${name}.chain${chain}.kill.example.test`
  fs.writeFileSync(
    path.join(folder.path, "acme.yaml"),
    JSON.stringify({
      ca: { directory: pebble.directoryUrl, trust: ["./ca.pem"] },
      account: { email: "kill@example.test" },
      storage: { path: "./storage" },
      certificates: names.map((name) => ({
        name,
        domains: [domain(name)],
        challenge: { type: "dns-01", provider: "challtestsrv", url: pebble.challtestsrvUrl }
      }))
    })
  )
  return { ...folder, storage: path.join(folder.path, "storage"), domain }
}

const killAt = (cwd: string, moment: Moment, args: ReadonlyArray<string>): Promise<Result> =>
  "point" in moment
    ? acme(args, { cwd, env: { ACME_TEST_CRASH_AT: moment.point } })
    : acmeKilledWhen(args, { cwd }, (line) => line.endsWith(`${moment.certificate}: stage ${moment.stage} started`))

const runChain = (moments: ReadonlyArray<Moment>, chain: number) =>
  Effect.gen(function*() {
    const pebble = yield* Pebble.Pebble
    const folder = fixture(pebble, chain)
    try {
      let orders = 0
      for (const [index, moment] of moments.entries()) {
        const what = `chain ${chain}, kill ${index + 1} (${describeMoment(moment)})`
        // the first kill hits a first issuance, the others a forced renewal of three live certificates
        const killed = yield* Effect.promise(() =>
          killAt(folder.path, moment, index === 0 ? ["renew", "--json"] : ["renew", "--force", "--json"])
        )
        expect(killed.signal, `${what}: ${killed.code} ${killed.stderr.slice(-600)}`).toBe("SIGKILL")
        assertComplete(folder.storage)

        const resumed = yield* Effect.promise(() => acme(["renew", "--json"], { cwd: folder.path }))
        expect(resumed.code, `${what}: ${resumed.stderr.slice(-1000)}`).toBe(0)
        const report = reportOf(resumed)
        expect(report.certificates.map((c) => c.name), what).toEqual([...names])
        for (const certificate of report.certificates) {
          expect(["renewed", "skipped"], `${what}: ${certificate.name}: ${certificate.reason}`).toContain(certificate.action)
        }
        assertComplete(folder.storage)
        for (const name of names) {
          const serial = liveSerial(folder.storage, name, folder.domain(name))
          expect((yield* pebble.certificateStatus(serial)).status, `${what}: ${name}`).toBe("Valid")
        }
        // three certificates renewed in all (in the killed run and the one after): at most one more
        // order than that, for an order placed and not yet saved when the process died
        const now = (yield* ordersAtCa(folder.storage)).length
        expect(now - orders, what).toBeGreaterThanOrEqual(3)
        expect(now - orders, what).toBeLessThanOrEqual(4)
        orders = now
      }
      // and from then on, a run is a no-op (checked in two chains: each run costs a second of CPU)
      if (chain % 5 !== 0) return
      const again = yield* Effect.promise(() => acme(["renew", "--json"], { cwd: folder.path }))
      expect(again.code, again.stderr).toBe(0)
      expect(reportOf(again).certificates.map((c) => c.action)).toEqual(["skipped", "skipped", "skipped"])
      expect((yield* ordersAtCa(folder.storage)).length).toBe(orders)
    } finally {
      folder.remove()
    }
  })

const Env = Layer.unwrapEffect(
  Effect.map(Pebble.Pebble, (pebble) => AcmeProtocol.layer({ directoryUrl: pebble.directoryUrl }))
).pipe(Layer.provide(PebbleHttpClient.layer), Layer.provideMerge(Pebble.layer({ challengeServers: "external" })))

layer(Env, { excludeTestServices: true, timeout: 240_000 })("acme renew of three certificates, SIGKILLed", (it) => {
  it.effect(`at ${chains.flat().length} moments: complete files after each kill, and the next run converges`, () =>
    Effect.forEach(chains, runChain, { concurrency: "unbounded", discard: true }), 300_000)
})
