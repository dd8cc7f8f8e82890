/**
 * Fault suite, the run's time budget (`renewal.maxRunTime`), the pipeline against Pebble behind the
 * FaultProxy on TestClock: a CA that validates but keeps the order pending (and refuses finalize with
 * `orderNotReady`) is polled (3 minutes an attempt) until the budget is spent; then the run stops,
 * checkpoints where it was, reports the certificate postponed (exit 1) and leaves the stored files
 * alone; the next run resumes the same order and converges.
 */
import { FaultProxy } from "@acme/testing"
import { CertificateName, RenewalState, Reporter } from "@acme/sdk"
import { expect, layer } from "@effect/vitest"
import { Clock, Effect, Option, TestClock, TestContext } from "effect"
import { checkpointAt, contents, expectLiveValid, proxiedPipeline, renewAt, storageFolder, temporaryFiles } from "./support/faults.js"

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null

layer(proxiedPipeline(), { excludeTestServices: true, timeout: 60_000 })("the run's time budget", (it) => {
  it.scoped("renewal.maxRunTime: the run stops, checkpoints, postpones what is left; the next run resumes it", () =>
    Effect.gen(function*() {
      const proxy = yield* FaultProxy.FaultProxy
      const root = yield* storageFolder
      const name = CertificateName.make("budget")
      const domain = `${name}.budget.example.test`
      const certificates = [{ name, domains: [domain], challenge: "dns-01" as const }]
      const renewal = { maxRunTime: "5 minutes" }
      yield* proxy.clear
      const first = yield* renewAt(root, certificates, { renewal, horizon: 60_000 })
      expect(first.certificates[0]?.action).toBe("renewed")
      const before = contents(root)
      // the runs are apart in time, as they are outside a test (a run id starts with its start time)
      yield* TestClock.adjust("1 minute")

      // a slow CA: the authorizations are valid, the order stays pending (finalize is refused)
      yield* proxy.inject({
        method: "POST",
        path: "/my-order/",
        fault: FaultProxy.editJson((body) => isRecord(body) && body.status === "ready" ? { ...body, status: "pending" } : body)
      })
      yield* proxy.inject({
        method: "POST",
        path: "/finalize-order/",
        fault: FaultProxy.status(403, {
          body: JSON.stringify({
            type: "urn:ietf:params:acme:error:orderNotReady",
            detail: "the order is pending, not ready",
            status: 403
          })
        })
      })
      const start = yield* Clock.currentTimeMillis
      const report = yield* renewAt(root, certificates, { force: true, renewal, horizon: 60_000 })
      const elapsed = (yield* Clock.currentTimeMillis) - start
      yield* proxy.clear

      expect(elapsed).toBeLessThanOrEqual(5 * 60_000)
      expect(elapsed).toBeGreaterThan(4 * 60_000)
      expect(report.stopped).toContain("renewal.maxRunTime (5m)")
      const result = report.certificates[0]
      expect(result?.action).toBe("postponed")
      expect(result?.reason).toMatch(/reached renewal\.maxRunTime \(5m\) in the (present|verify|finalize) stage/)
      expect(Reporter.hasFailures(report)).toBe(true)
      expect(contents(root)).toEqual(before)
      expect(temporaryFiles(root)).toEqual([])

      // checkpointed where it stopped: the next run resumes the same run and the same order
      const saved = yield* checkpointAt(root, report.runId)
      expect(saved.runId).toBe(report.runId)
      expect(saved.phase).toBe("renew")
      const order = Option.getOrThrow(RenewalState.bucket(saved, name)).order?.url
      const again = yield* renewAt(root, certificates, { renewal, horizon: 60_000 })
      expect(again.resumed).toBe(true)
      expect(again.runId).toBe(report.runId)
      expect(again.certificates[0]?.action, again.certificates[0]?.reason).toBe("renewed")
      expect(again.stopped).toBeUndefined()
      expect(expectLiveValid(root, name, domain)).toBe(again.certificates[0]?.serial)
      const resumed = Option.getOrThrow(RenewalState.bucket(yield* checkpointAt(root, again.runId), name))
      expect(resumed.order?.url).toBe(order)
    }).pipe(Effect.provide(TestContext.TestContext)))
})
