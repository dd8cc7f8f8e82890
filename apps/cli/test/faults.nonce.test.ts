/**
 * Fault suite: the built `acme` binary against a Pebble that rejects 90% of all nonces (seen through
 * the FaultProxy, which only counts). Every badNonce answer is retried with the nonce it brought; a
 * request that runs out of those retries (40, about one request in 75 at 90%) fails its stage, which
 * the scheduler runs again; the default settings are enough. The user sees exit 0 and a renewed certificate; on disk it is valid, matches its key, and nothing is left
 * half-written.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { FaultProxy, Pebble } from "@acme/testing"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { assertComplete, liveSerial, pendingKeys, reportOf, temporaryFiles } from "./support/checks.js"
import { acme, temporaryFolder } from "./support/cli.js"

const Env = FaultProxy.layer.pipe(Layer.provideMerge(Pebble.layer({ challengeServers: "external", nonceRejectPercent: 90 })))

layer(Env, { excludeTestServices: true, timeout: 90_000 })("a CA that rejects 90% of all nonces", (it) => {
  it.effect("acme renew issues the certificate: exit 0, valid on disk", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const proxy = yield* FaultProxy.FaultProxy
      const folder = temporaryFolder("acme-nonce90-")
      try {
        fs.writeFileSync(path.join(folder.path, "ca.pem"), proxy.caBundle)
        fs.writeFileSync(
          path.join(folder.path, "acme.yaml"),
          JSON.stringify({
            ca: { directory: proxy.directoryUrl, trust: ["./ca.pem"] },
            account: { email: "nonce@example.test" },
            storage: { path: "./storage" },
            certificates: [{
              name: "site",
              domains: ["site.nonce90.example.test"],
              challenge: { type: "dns-01", provider: "challtestsrv", url: pebble.challtestsrvUrl }
            }]
          })
        )
        const result = yield* Effect.promise(() => acme(["renew", "--json"], { cwd: folder.path }))
        expect(result.code, result.stderr.slice(-2000)).toBe(0)
        const report = reportOf(result)
        expect(report.certificates.map((c) => c.action)).toEqual(["renewed"])
        // any stage that had to be tried again was announced with its badNonce reason
        for (const line of result.stderrLines.filter((l) => l.includes("warning:"))) {
          expect(line).toMatch(/site: \w+ failed \(.*badNonce.*\); attempt \d+ of 5 in [\d.]+ s/)
        }

        const storage = path.join(folder.path, "storage")
        assertComplete(storage)
        const serial = liveSerial(storage, "site", "site.nonce90.example.test")
        expect(serial).toBe(report.certificates[0]?.serial)
        expect((yield* pebble.certificateStatus(serial)).status).toBe("Valid")
        expect(temporaryFiles(storage)).toEqual([])
        expect(pendingKeys(storage)).toEqual([])

        // the CA did reject most nonces (at least two rejected for each accepted: 90% is a rate, and
        // a run of a few dozen requests may see fewer than 4 in 5 rejected)
        const posts = (yield* proxy.exchanges).filter((e) => e.method === "POST")
        expect(posts.filter((e) => e.status === 400).length).toBeGreaterThan(posts.filter((e) => e.status < 400).length * 2)
      } finally {
        folder.remove()
      }
    }))
})
