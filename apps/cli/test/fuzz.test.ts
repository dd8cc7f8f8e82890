/**
 * The fuzz suite through the built `acme` binary: a few seeds of the FaultProxy's chaos mode in
 * front of an always-valid Pebble (the SDK's fuzz suite runs hundreds in-process; these check what
 * only the binary does). For each seed, `acme renew --force --json` on a copy of an issued storage:
 *
 * - exits 0 or 1, within its time budget (`renewal.maxRunTime`, real time here);
 * - prints exactly one JSON document on stdout: the report;
 * - sends a bounded number of requests, all to the CA's origin (none reaches the proxy's traps);
 * - leaves each certificate renewed (new and valid) or exactly as it was.
 *
 * Replay one with `ACME_FUZZ_SEED=7 pnpm --filter @acme/cli exec vitest run test/fuzz.test.ts`.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { FaultProxy, Pebble } from "@acme/testing"
import { Reporter } from "@acme/sdk"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import { assertComplete, contents, liveSerial, temporaryFiles } from "./support/checks.js"
import { acme, temporaryFolder } from "./support/cli.js"

const listed = process.env["ACME_FUZZ_SEED"]
const seeds = listed !== undefined && listed.trim() !== ""
  ? listed.split(/[\s,]+/).filter((s) => s !== "").map(Number)
  : [3, 11, 26, 42, 77, 1013]

/** the run's budget: real seconds here */
const maxRunTime = 15

const Env = FaultProxy.layer.pipe(Layer.provideMerge(Pebble.layer({ alwaysValid: true })))

layer(Env, { excludeTestServices: true, timeout: 240_000 })("acme renew against a CA that answers at random", (it) => {
  it.effect("each seed: exit 0 or 1 in time, one JSON document, bounded requests to the CA only, files renewed or untouched", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const proxy = yield* FaultProxy.FaultProxy
      yield* proxy.clear
      const template = temporaryFolder("acme-fuzz-cli-")
      try {
        fs.writeFileSync(path.join(template.path, "ca.pem"), proxy.caBundle)
        fs.writeFileSync(
          path.join(template.path, "acme.yaml"),
          JSON.stringify({
            ca: { directory: proxy.directoryUrl, trust: ["./ca.pem"], requestTimeout: "5 seconds" },
            account: { email: "fuzz@example.test" },
            storage: { path: "./storage" },
            renewal: { maxAttempts: 3, maxWait: "3 seconds", maxRunTime: `${maxRunTime} seconds` },
            certificates: [{
              name: "fuzz",
              domains: ["fuzz.cli.example.test"],
              challenge: { type: "dns-01", provider: "challtestsrv", url: pebble.challtestsrvUrl, propagation: { check: false } }
            }]
          })
        )
        const first = yield* Effect.promise(() => acme(["renew", "--json"], { cwd: template.path }))
        expect(first.code, first.stderr).toBe(0)
        const storage = path.join(template.path, "storage")
        const before = contents(storage)

        for (const seed of seeds) {
          const copy = temporaryFolder(`acme-fuzz-cli-${seed}-`)
          try {
            fs.cpSync(template.path, copy.path, { recursive: true, verbatimSymlinks: true })
            const copied = path.join(copy.path, "storage")
            const seen = (yield* proxy.exchanges).length
            const trapped = (yield* proxy.trapped).length
            yield* proxy.clear
            yield* proxy.chaos({ seed })
            const started = performance.now()
            const result = yield* Effect.promise(() => acme(["renew", "--force", "--json"], { cwd: copy.path }))
            const seconds = (performance.now() - started) / 1000
            yield* proxy.clear
            const exchanges = (yield* proxy.exchanges).slice(seen)
            const about = [
              `seed ${seed} (replay: ACME_FUZZ_SEED=${seed} pnpm --filter @acme/cli exec vitest run test/fuzz.test.ts)`,
              `exit ${result.code} after ${seconds.toFixed(1)} s, ${exchanges.length} requests`,
              ...exchanges.filter((e) => e.mutation !== undefined).map((e) => `  ${e.method} ${e.path} -> ${e.status}: ${e.mutation}`),
              result.stderr
            ].join("\n")

            expect([0, 1], about).toContain(result.code)
            // the budget, and the time a process takes to start and to stop
            expect(seconds, about).toBeLessThan(maxRunTime + 10)
            // exactly one JSON document: the report
            const report = Schema.decodeUnknownSync(Schema.parseJson(Reporter.RunReport))(result.stdout)
            expect(result.code === 1, about).toBe(Reporter.hasFailures(report))
            expect(exchanges.length, about).toBeLessThanOrEqual(150 + 2 * seconds)
            expect((yield* proxy.trapped).slice(trapped), about).toEqual([])

            const certificate = report.certificates[0]
            if (certificate?.action === "renewed") {
              expect(liveSerial(copied, "fuzz", "fuzz.cli.example.test"), about).toBe(certificate.serial)
              expect((yield* pebble.certificateStatus(certificate.serial ?? "")).status, about).toBe("Valid")
            } else {
              const files = (all: Record<string, string>) =>
                Object.fromEntries(Object.entries(all).filter(([file]) => !file.endsWith("metadata.json")))
              expect(files(contents(copied)), about).toEqual(files(before))
            }
            assertComplete(copied)
            expect(temporaryFiles(copied), about).toEqual([])
          } finally {
            copy.remove()
          }
        }
      } finally {
        template.remove()
      }
    }), 240_000) // six seeds of up to maxRunTime (15 s) each, real time, plus the first issuance
})
