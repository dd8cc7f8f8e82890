import * as net from "node:net"
import { Pebble } from "@acme/testing"
import { AcmeProtocol, CertificateName, CrashPoint, Renewal, RenewalState, Storage } from "@acme/sdk"
import { NodeHttpClient } from "@effect/platform-node"
import { expect, layer } from "@effect/vitest"
import { Effect, Exit, Layer, Option, TestClock, TestContext } from "effect"
import { inject, requests } from "./support/acme.js"
import { type CertificateInput, driveClock, pipelineServices, settingsLayer } from "./support/pipeline.js"
import { recordingTracer } from "./support/tracing.js"

const isNewOrder = (url: string) => url.endsWith("/order-plz")

const crashAt = (point: string) =>
  Layer.succeed(CrashPoint.CrashPoint, { reach: (p) => (p === point ? Effect.interrupt : Effect.void) })

const closedPort = Effect.async<number>((resume) => {
  const probe = net.createServer().listen(0, "127.0.0.1", () => {
    const address = probe.address()
    probe.close(() => resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 0)))
  })
})

// requests may take a day: driveClock must never take their timeouts for waits (see there)
layer(pipelineServices({ requestTimeout: "1 day" }).pipe(Layer.provideMerge(Pebble.layer())), {
  excludeTestServices: true
})(
  "the renewal pipeline after crashes and failures",
  (it) => {
    it.effect.each([
      "after:order",
      "after:present",
      "done:verify",
      "after:csr",
      "done:finalize",
      "after:finalize",
      "done:download",
      "done:store"
    ])("interrupted at %s, the next run resumes and converges without a second order", (point) =>
      Effect.gen(function*() {
        const pebble = yield* Pebble.Pebble
        const storage = yield* Storage.Storage
        const name = `crash-${point.replace(":", "-")}`
        const certificates: ReadonlyArray<CertificateInput> = [
          { name, domains: [`${name}.example.test`], challenge: "http-01" }
        ]
        const settings = settingsLayer(certificates)
        const ordersBefore = (yield* requests).filter((r) => isNewOrder(r.url)).length

        const first = yield* Effect.exit(Renewal.renew().pipe(Effect.provide(settings), Effect.provide(crashAt(point))))
        expect(Exit.isInterrupted(first)).toBe(true)
        const interrupted = Option.getOrThrow(RenewalState.decode((yield* storage.loadCheckpoints).at(-1)?.json ?? ""))
        expect(interrupted.phase).toBe("renew")

        const logBefore = (yield* requests).length
        const second = yield* Renewal.renew().pipe(Effect.provide(settings))
        expect(second.resumed).toBe(true)
        expect(second.runId).toBe(interrupted.runId)
        expect(second.certificates[0]?.action).toBe("renewed")
        const stored = Option.getOrThrow(yield* storage.loadCertificate(CertificateName.make(name)))
        expect(stored.metadata.serialNumber).toBe(second.certificates[0]?.serial)
        // one order in all: the order placed before the crash is the one that was finished
        expect((yield* requests).filter((r) => isNewOrder(r.url)).length).toBe(ordersBefore + 1)
        const resumedRequests = (yield* requests).slice(logBefore)
        // the stages share the directory the first of them fetched: one GET in the resumed run (none
        // when it only had files to write), not one per stage
        const directoryGets = resumedRequests.filter((r) => r.method === "GET" && r.url === pebble.directoryUrl)
        expect(directoryGets.length).toBe(point === "done:store" ? 0 : 1)
        if (point === "done:store") {
          // the files were in place: finishing needs nothing from the CA
          expect(resumedRequests.filter((r) => r.method !== "GET")).toEqual([])
        } else {
          // a resumed run starts its certificate with a fresh nonce
          expect(resumedRequests.find((r) => r.method !== "GET")?.method).toBe("HEAD")
        }
        // and a run after that is a no-op
        const third = yield* Renewal.renew().pipe(Effect.provide(settings))
        expect(third.resumed).toBe(false)
        expect(third.certificates[0]?.action).toBe("skipped")
      }))

    it.effect("store writes the chain download parsed; a run resumed at store parses it once", () =>
      Effect.gen(function*() {
        const parses = (spans: ReadonlyArray<{ readonly name: string }>) =>
          spans.filter((span) => span.name === "Certificate.parseChain").length
        const whole = recordingTracer()
        const once = settingsLayer([{ name: "parsed-once", domains: ["parsed-once.example.test"], challenge: "http-01" }])
        const report = yield* Renewal.renew().pipe(Effect.provide(once), Effect.withTracer(whole.tracer))
        expect(report.certificates[0]?.action).toBe("renewed")
        // download parsed the chain (inside downloadCertificate); store took it from the run's memory
        expect(parses(whole.spans)).toBe(1)

        const name = "parsed-resumed"
        const resumed = settingsLayer([{ name, domains: [`${name}.example.test`], challenge: "http-01" }])
        const crashed = recordingTracer()
        const first = yield* Effect.exit(
          Renewal.renew().pipe(Effect.provide(resumed), Effect.provide(crashAt("after:download")), Effect.withTracer(crashed.tracer))
        )
        expect(Exit.isInterrupted(first)).toBe(true)
        expect(parses(crashed.spans)).toBe(1)
        // the parsed chain went away with the process: the resumed run parses the checkpoint's PEM
        const again = recordingTracer()
        const second = yield* Renewal.renew().pipe(Effect.provide(resumed), Effect.withTracer(again.tracer))
        expect(second.resumed).toBe(true)
        expect(second.certificates[0]?.action).toBe("renewed")
        expect(parses(again.spans)).toBe(1)
      }))

    it.effect("a rate-limited newOrder is retried by the scheduler after the CA's Retry-After, with the nonce of the refusal (TestClock)", () =>
      Effect.gen(function*() {
        const pebble = yield* Pebble.Pebble
        const acme = yield* AcmeProtocol.AcmeProtocol
        const directory = yield* acme.directory
        // the refusal carries a nonce Pebble issued, as a real answer would
        const refusalNonce = yield* acme.newNonce(directory)
        yield* inject({
          method: "POST",
          url: (url) => url === directory.newOrder,
          times: 1,
          respond: () =>
            new Response(
              JSON.stringify({ type: "urn:ietf:params:acme:error:rateLimited", detail: "too many new orders recently" }),
              {
                status: 429,
                headers: { "content-type": "application/problem+json", "retry-after": "30", "replay-nonce": refusalNonce }
              }
            )
        })
        const start = (yield* requests).length
        const fiber = yield* Effect.fork(
          Renewal.renew().pipe(
            Effect.provide(settingsLayer([{ name: "limited", domains: ["limited.example.test"], challenge: "http-01" }]))
          )
        )
        const report = yield* driveClock(fiber)
        expect(report.certificates[0]?.action).toBe("renewed")
        expect(report.certificates[0]?.attempts).toBe(1)
        const sent = (yield* requests).slice(start)
        const orders = sent.filter((r) => r.url === directory.newOrder)
        expect(orders.map((r) => r.status)).toEqual([429, 201])
        // the retry came no sooner than the 30 s the CA asked for (and not much later)
        const waited = (orders[1]?.at ?? 0) - (orders[0]?.at ?? 0)
        expect(waited).toBeGreaterThanOrEqual(30_000)
        expect(waited).toBeLessThan(32_000)
        // the retry signed with the nonce the refusal came with: no newNonce in between
        expect(orders[1]?.nonce).toBe(refusalNonce)
        const [refused, retried] = [0, 1].map((i) => sent.findIndex((r) => r === orders[i]))
        const between = sent.slice(refused, retried)
        expect(between.filter((r) => r.method === "HEAD")).toEqual([])
        // one directory for the whole run, read by scan
        expect(sent.filter((r) => r.method === "GET" && r.url === pebble.directoryUrl).length).toBe(1)
      }).pipe(Effect.provide(TestContext.TestContext)))

    it.effect("a resumed run whose first stage fails keeps the directory and the failure's nonce for the retry (TestClock)", () =>
      Effect.gen(function*() {
        const pebble = yield* Pebble.Pebble
        const storage = yield* Storage.Storage
        const acme = yield* AcmeProtocol.AcmeProtocol
        // a real date, so that this run's checkpoints are the newest (run ids sort by it)
        yield* TestClock.setTime(Date.now())
        const name = "resumed-failing"
        const settings = settingsLayer([{ name, domains: [`${name}.example.test`], challenge: "http-01" }])
        const first = yield* Effect.exit(Renewal.renew().pipe(Effect.provide(settings), Effect.provide(crashAt("after:order"))))
        expect(Exit.isInterrupted(first)).toBe(true)
        const interrupted = Option.getOrThrow(RenewalState.decode((yield* storage.loadCheckpoints).at(-1)?.json ?? ""))
        const authorization = Option.getOrThrow(RenewalState.bucket(interrupted, CertificateName.make(name))).order?.authorizations[0]?.url ?? ""
        expect(authorization).not.toBe("")

        // the first request of the resumed run to the authorization fails with a server error that
        // carries a nonce Pebble issued
        const failureNonce = yield* acme.newNonce(yield* acme.directory)
        yield* inject({
          method: "POST",
          url: (url) => url === authorization,
          times: 1,
          respond: () =>
            new Response(
              JSON.stringify({ type: "urn:ietf:params:acme:error:serverInternal", detail: "try again" }),
              { status: 500, headers: { "content-type": "application/problem+json", "replay-nonce": failureNonce } }
            )
        })
        const start = (yield* requests).length
        const report = yield* driveClock(yield* Effect.fork(Renewal.renew().pipe(Effect.provide(settings))))
        expect(report.resumed).toBe(true)
        expect(report.certificates[0]?.action).toBe("renewed")
        expect(report.certificates[0]?.attempts).toBe(1)
        const sent = (yield* requests).slice(start)
        const fetches = sent.filter((r) => r.url === authorization)
        // present's fetch failed and was repeated; then verify polled it until it was valid
        expect(fetches.map((r) => r.status).slice(0, 2)).toEqual([500, 200])
        expect(fetches.slice(2).every((r) => r.status === 200)).toBe(true)
        // present ran twice and the other stages once each, on one directory and one newNonce
        expect(sent.filter((r) => r.method === "GET" && r.url === pebble.directoryUrl).length).toBe(1)
        expect(sent.filter((r) => r.method === "HEAD").length).toBe(1)
        expect(fetches[1]?.nonce).toBe(failureNonce)
      }).pipe(Effect.provide(TestContext.TestContext)))

    it.effect("an unreachable CA is retried by the scheduler, then reported failed; stored files stay as they were", () =>
      Effect.gen(function*() {
        const storage = yield* Storage.Storage
        const certificates: ReadonlyArray<CertificateInput> = [
          { name: "offline", domains: ["offline.example.test"], challenge: "http-01" }
        ]
        // on the TestClock: driven, so that polls that wait go on
        yield* driveClock(yield* Effect.fork(Renewal.renew().pipe(Effect.provide(settingsLayer(certificates)))))
        const before = Option.getOrThrow(yield* storage.loadCertificate(CertificateName.make("offline")))

        const dead = `https://127.0.0.1:${yield* closedPort}/dir`
        const fiber = yield* Effect.fork(
          Renewal.renew({ force: true }).pipe(
            Effect.provide(settingsLayer(certificates, { maxAttempts: 3 }, dead)),
            Effect.provide(AcmeProtocol.layer({ directoryUrl: dead, requestTimeout: "1 day" })),
            Effect.provide(NodeHttpClient.layerUndici)
          )
        )
        const report = yield* driveClock(fiber)
        const result = report.certificates[0]
        expect(result?.action).toBe("failed")
        expect(result?.attempts).toBe(3)
        expect(result?.reason).toContain("cannot reach the CA")
        expect(result?.reason).toContain("gave up after 3 attempts")
        expect(result?.error?.type).toBe("TransportError")
        const after = Option.getOrThrow(yield* storage.loadCertificate(CertificateName.make("offline")))
        expect(after.fullchainPem).toBe(before.fullchainPem)
        expect(after.metadata).toEqual(before.metadata)
      }).pipe(Effect.provide(TestContext.TestContext)))
  }
)
