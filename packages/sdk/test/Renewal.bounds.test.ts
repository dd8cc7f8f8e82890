/**
 * The renewal pipeline's bounds, on TestClock against Pebble (the run's time budget itself is tested
 * in faults.budget.test.ts):
 *
 * - only the error handler moves a certificate backwards: a stage that sends its certificate back
 *   (here download, finding no certificate URL in a tampered checkpoint) costs an attempt and a wait;
 * - a retry wait that would end after the budget postpones the certificate at once, with the time
 *   the CA gave.
 */
import { Pebble } from "@acme/testing"
import { CertificateName, CrashPoint, Renewal, RenewalState, Storage } from "@acme/sdk"
import { expect, layer } from "@effect/vitest"
import { Clock, Effect, Exit, Layer, Option } from "effect"
import { TestContext } from "effect"
import { clearFaults, inject, requests } from "./support/acme.js"
import { type CertificateInput, driveClock, pipelineServices, settingsLayer } from "./support/pipeline.js"

const crashAt = (point: string) =>
  Layer.succeed(CrashPoint.CrashPoint, { reach: (p) => (p === point ? Effect.interrupt : Effect.void) })

const lastState = Effect.flatMap(Storage.Storage, (storage) =>
  Effect.map(storage.loadCheckpoints, (all) => Option.getOrThrow(RenewalState.decode(all.at(-1)?.json ?? ""))))

const one = (name: string): ReadonlyArray<CertificateInput> => [{ name, domains: [`${name}.example.test`], challenge: "http-01" }]

const isOrderPoll = (method: string, url: string) => method === "POST" && url.includes("/my-order/")

// requests may take a day: driveClock must never take their timeouts for waits (see there)
layer(pipelineServices({ requestTimeout: "1 day" }).pipe(Layer.provideMerge(Pebble.layer())), {
  excludeTestServices: true
})("the renewal pipeline's bounds", (it) => {
  it.effect("a stage that sends its certificate back goes through the error handler and the scheduler", () =>
    Effect.gen(function*() {
      const storage = yield* Storage.Storage
      const name = CertificateName.make("back")
      const settings = settingsLayer(one(name))
      const first = yield* Effect.exit(
        driveClock(yield* Effect.fork(Renewal.renew().pipe(Effect.provide(settings), Effect.provide(crashAt("after:finalize")))))
      )
      expect(Exit.isInterrupted(first)).toBe(true)
      // an older checkpoint, say, that has no certificate URL for the finalized order
      const saved = yield* lastState
      const tampered = RenewalState.updateBucket(saved, name, (bucket) => ({
        ...bucket,
        order: bucket.order === undefined ? undefined : { ...bucket.order, certificate: undefined }
      }))
      yield* storage.saveCheckpoint(saved.runId, RenewalState.encode(tampered))

      const start = (yield* requests).length
      const report = yield* driveClock(yield* Effect.fork(Renewal.renew().pipe(Effect.provide(settings))))
      const result = report.certificates[0]
      expect(result?.action, result?.reason).toBe("renewed")
      // download went back to finalize: an attempt, recorded with its reason, and a wait before finalize ran again
      expect(result?.attempts).toBe(1)
      const bucket = Option.getOrThrow(RenewalState.bucket(yield* lastState, name))
      expect(bucket.lastError?.tag).toBe("PipelineError")
      expect(bucket.lastError?.message).toContain("the download stage sent the certificate back to finalize")
      const polls = (yield* requests).slice(start).filter((r) => isOrderPoll(r.method, r.url))
      expect(polls.length).toBe(1)
      expect(polls[0]?.at).toBeGreaterThanOrEqual(800)
    }).pipe(Effect.provide(TestContext.TestContext)))

  it.effect("a retry wait past the run's budget postpones the certificate at once, with the CA's time", () =>
    Effect.gen(function*() {
      const name = CertificateName.make("later")
      yield* inject({
        method: "POST",
        url: (url) => url.endsWith("/order-plz"),
        times: 1,
        respond: () =>
          new Response(JSON.stringify({ type: "urn:ietf:params:acme:error:rateLimited", detail: "slow down" }), {
            status: 429,
            headers: { "content-type": "application/problem+json", "retry-after": "1200" }
          })
      })
      const settings = settingsLayer(one(name), { maxRunTime: "10 minutes", maxWait: "1 hour" })
      const start = yield* Clock.currentTimeMillis
      const report = yield* driveClock(yield* Effect.fork(Renewal.renew({ force: true }).pipe(Effect.provide(settings))), 60_000)
      yield* clearFaults
      // no wait at all: the CA's 20 minutes end after the run's 10
      expect((yield* Clock.currentTimeMillis) - start).toBeLessThan(1_000)
      const result = report.certificates[0]
      expect(result?.action, result?.reason).toBe("postponed")
      expect(result?.attempts).toBe(1)
      expect(result?.notBefore).toBe(new Date(start + 1_200_000).toISOString())
      expect(result?.reason).toContain("renewal.maxRunTime")
      expect(report.stopped).toBeUndefined()
    }).pipe(Effect.provide(TestContext.TestContext)))
})
