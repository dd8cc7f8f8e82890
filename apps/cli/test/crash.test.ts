/**
 * Crash safety of the built `acme` binary against a real Pebble (real validation): the process is
 * SIGKILLed at every stage boundary, inside atomic writes, and in the middle of stages. After each
 * crash the files on disk are complete (never half-written), and the next run converges to a valid
 * certificate, with no second order at the CA when the first one had been placed and saved. A SIGTERM
 * (an interruption, not a crash) ends `acme renew` with exit 130 and one line, and is resumed the same way.
 */
import { X509Certificate } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { Pebble, PebbleHttpClient } from "@acme/testing"
import { AcmeProtocol } from "@acme/sdk"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { assertComplete, ordersAtCa, reportOf } from "./support/checks.js"
import { acme, acmeKilledWhen, acmeWatched, type Result, temporaryFolder } from "./support/cli.js"

/** A folder with a config for one certificate, answered by the CLI's own http-01 server. */
const fixture = (pebble: Pebble.Service, name: string) => {
  const folder = temporaryFolder("acme-crash-")
  fs.writeFileSync(path.join(folder.path, "ca.pem"), pebble.caBundle)
  fs.writeFileSync(
    path.join(folder.path, "acme.yaml"),
    JSON.stringify({
      ca: { directory: pebble.directoryUrl, trust: ["./ca.pem"] },
      account: { email: "crash@example.test" },
      storage: { path: "./storage" },
      certificates: [{
        name,
        domains: [`${name}.crash.example.test`],
        challenge: { type: "http-01", port: pebble.httpPort, address: "127.0.0.1" }
      }]
    })
  )
  return { ...folder, storage: path.join(folder.path, "storage") }
}

const Env = Layer.unwrapEffect(
  Effect.map(Pebble.Pebble, (pebble) => AcmeProtocol.layer({ directoryUrl: pebble.directoryUrl }))
).pipe(Layer.provide(PebbleHttpClient.layer), Layer.provideMerge(Pebble.layer({ challengeServers: "external" })))

/** Runs the crash, checks the files, runs again, and checks that it converged. */
const crashAndRecover = (
  name: string,
  crash: (cwd: string) => Promise<Result>,
  expectedOrders: number
) =>
  Effect.gen(function*() {
    const pebble = yield* Pebble.Pebble
    const folder = fixture(pebble, name)
    try {
      const crashed = yield* Effect.promise(() => crash(folder.path))
      expect(crashed.signal, `${crashed.code} ${crashed.stderr.slice(-600)}`).toBe("SIGKILL")
      assertComplete(folder.storage)

      const resumed = yield* Effect.promise(() => acme(["renew", "--json"], { cwd: folder.path }))
      expect(resumed.code, resumed.stderr).toBe(0)
      const report = reportOf(resumed)
      expect(report.certificates.map((c) => [c.name, c.action])).toEqual([[name, "renewed"]])
      assertComplete(folder.storage)
      const serial = report.certificates[0]?.serial ?? ""
      expect((yield* pebble.certificateStatus(serial)).status).toBe("Valid")
      const live = new X509Certificate(fs.readFileSync(path.join(folder.storage, "live", name, "cert.pem")))
      expect(live.serialNumber).toBe(serial)

      const orders = yield* ordersAtCa(folder.storage)
      expect(orders.length).toBe(expectedOrders)

      // and from then on, a run is a no-op
      const again = yield* Effect.promise(() => acme(["renew", "--json"], { cwd: folder.path }))
      expect(again.code).toBe(0)
      expect(reportOf(again).certificates[0]?.action).toBe("skipped")
      expect((yield* ordersAtCa(folder.storage)).length).toBe(expectedOrders)
      return report
    } finally {
      folder.remove()
    }
  })

// `before:<stage>` is the same moment as `after:` of the stage before it, so each boundary is covered
// by `done:` (the stage's work is done, its checkpoint not yet saved) and `after:` (saved)
const boundaries = ["scan", "plan", "account", "order", "present", "verify", "csr", "finalize", "download", "store"]
  .flatMap((stage) => [`done:${stage}`, `after:${stage}`])

const writes = [
  "write:account.key:before-rename",
  "write:account.json:before-rename",
  "write:cert.pem:before-rename",
  "write:privkey.pem:before-rename",
  "write:fullchain.pem:before-rename",
  "write:metadata.json:before-rename",
  "write:live:before-swap"
]

layer(Env, { excludeTestServices: true, timeout: 60_000 })("acme renew killed with SIGKILL", (it) => {
  it.effect.each([...boundaries, ...writes])("at %s: complete files, and the next run converges", (point) =>
    Effect.gen(function*() {
      const name = `at-${point.replace(/[^a-z0-9]+/gi, "-")}`.toLowerCase().slice(0, 60)
      // an order placed but not yet saved when the process died is the one case that costs a second order
      const expectedOrders = point === "done:order" ? 2 : 1
      const report = yield* crashAndRecover(
        name,
        (cwd) => acme(["renew", "--json"], { cwd, env: { ACME_TEST_CRASH_AT: point } }),
        expectedOrders
      )
      // the next run picks the interrupted run up whenever a checkpoint had been saved
      expect(report.resumed).toBe(point !== "done:scan")
    }))

  it.effect.each(["present", "verify", "finalize", "download", "store"])(
    "in the middle of %s (killed as it starts): complete files, and the next run converges",
    (stage) =>
      crashAndRecover(
        `mid-${stage}`,
        (cwd) => acmeKilledWhen(["renew"], { cwd }, (line) => line.includes(`stage ${stage} started`)),
        1
      )
  )

  // unlike acme serve, which declares a stop signal its normal end (exit 0), a renewal cut short by
  // one is an interruption: exit 130 and one line; the next run resumes it
  it.effect("SIGTERM in the middle of acme renew: exit 130, \"acme: interrupted\", and the next run converges", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const folder = fixture(pebble, "sigterm")
      try {
        let signalled = false
        const stopped = yield* Effect.promise(() =>
          acmeWatched(["renew"], { cwd: folder.path }, (line, child) => {
            if (!signalled && line.includes("stage verify started")) {
              signalled = true
              child.kill("SIGTERM")
            }
          })
        )
        expect(signalled).toBe(true)
        expect(stopped.code, stopped.stderr).toBe(130)
        expect(stopped.stderrLines.at(-1)).toBe("acme: interrupted")
        assertComplete(folder.storage)
        const resumed = yield* Effect.promise(() => acme(["renew", "--json"], { cwd: folder.path }))
        expect(resumed.code, resumed.stderr).toBe(0)
        const report = reportOf(resumed)
        expect(report.resumed).toBe(true)
        expect(report.certificates.map((c) => [c.name, c.action])).toEqual([["sigterm", "renewed"]])
        expect((yield* ordersAtCa(folder.storage)).length).toBe(1)
      } finally {
        folder.remove()
      }
    }))
})
