/**
 * Fault suite: a CA that rejects 90% of all nonces (Pebble's PEBBLE_WFE_NONCEREJECT). Each signed
 * request is retried with the nonce that came with its badNonce answer, a request that runs out of
 * those retries fails its stage, and the error handler and the scheduler (on TestClock) try the stage
 * again: three certificates are issued, valid on disk.
 */
import { Pebble } from "@acme/testing"
import { expect, layer } from "@effect/vitest"
import { Effect, TestContext } from "effect"
import { requests } from "./support/acme.js"
import { expectLiveValid, proxiedPipeline, renewAt, storageFolder, temporaryFiles } from "./support/faults.js"

layer(proxiedPipeline({ nonceRejectPercent: 90 }), { excludeTestServices: true, timeout: 120_000 })(
  "a CA that rejects 90% of all nonces",
  (it) => {
    it.scoped("three certificates are issued; every retry signs with the nonce of the badNonce answer", () =>
      Effect.gen(function*() {
        const pebble = yield* Pebble.Pebble
        const root = yield* storageFolder
        const certificates = [
          { name: "one", domains: ["one.nonce90.example.test"], challenge: "http-01" as const },
          { name: "two", domains: ["two.nonce90.example.test"], challenge: "dns-01" as const },
          { name: "three", domains: ["three.nonce90.example.test"], challenge: "tls-alpn-01" as const }
        ]
        // default settings: 40 retries per call, 5 attempts per certificate
        const report = yield* renewAt(root, certificates)
        expect(report.certificates.map((c) => [c.name, c.action, c.reason])).toEqual(
          certificates.map((c) => [c.name, "renewed", expect.any(String)])
        )
        for (const [i, certificate] of report.certificates.entries()) {
          const serial = expectLiveValid(root, certificate.name, certificates[i]?.domains[0] ?? "")
          expect(serial).toBe(certificate.serial)
          expect((yield* pebble.certificateStatus(serial)).status).toBe("Valid")
        }
        expect(temporaryFiles(root)).toEqual([])

        const log = (yield* requests).filter((r) => r.method === "POST")
        const rejected = log.filter((r) => r.status === 400)
        const accepted = log.filter((r) => r.status < 400)
        // about nine rejections per accepted request
        expect(rejected.length).toBeGreaterThan(accepted.length * 5)
        // a POST after a badNonce answer carries the nonce that answer brought
        for (const [i, entry] of log.entries()) {
          const previous = log[i - 1]
          if (previous?.status === 400 && entry.url === previous.url) expect(entry.nonce).toBe(previous.replayNonce)
        }
      }).pipe(Effect.provide(TestContext.TestContext)))
  }
)
