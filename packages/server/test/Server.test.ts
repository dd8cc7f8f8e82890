/**
 * The server in this process, against a real Pebble (challenges answered through challtestsrv), on
 * a free loopback port: the generated OpenAPI document and reference page, problem documents for
 * what the API does not know, slowing down of failed authentications, a task that a stopped
 * process left running being run at start, and one that another live server holds being left to it.
 */
import {
  AcmeProtocol,
  CertificateName,
  ChallengeResponse,
  Lease,
  ChallengeSolver,
  Planner,
  RenewalConfig,
  RenewalSettings,
  Reporter,
  Storage
} from "@acme/sdk"
import { ApiKeys, Environment, Server, ServerConfig } from "@acme/server"
import { Pebble, PebbleHttpClient } from "@acme/testing"
import { HttpServer } from "@effect/platform"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer, Option, Redacted, Schema } from "effect"

const responders = Layer.unwrapEffect(
  Effect.map(Pebble.Pebble, (pebble) =>
    Layer.mergeAll(
      Layer.succeed(ChallengeSolver.Http01Responder, {
        present: (task) => Effect.orDie(pebble.addHttp01(task.token, task.keyAuthorization)),
        cleanup: (task) => Effect.ignore(pebble.removeHttp01(task.token))
      }),
      Layer.succeed(ChallengeSolver.Dns01Responder, {
        present: (task) =>
          Effect.flatMap(
            ChallengeResponse.dns01TxtValue(task.keyAuthorization),
            (value) => Effect.orDie(pebble.setTxt(ChallengeResponse.dns01RecordName(task.identifier), value))
          ),
        cleanup: (task) => Effect.ignore(pebble.clearTxt(ChallengeResponse.dns01RecordName(task.identifier)))
      })
    ))
)

/** the SDK's programs over Pebble, with one memory storage kept across server restarts */
const environment = (storage: Storage.Service, renewal: Record<string, unknown> = {}) =>
  Layer.unwrapEffect(Effect.map(Pebble.Pebble, (pebble) => {
    const config = Schema.decodeUnknownSync(RenewalConfig.RenewalConfig)({
      ca: { directory: pebble.directoryUrl },
      account: { email: "ops@example.test" },
      storage: { path: "memory" },
      renewal,
      certificates: [{ name: "web", domains: ["web.server.example.test"], challenge: { type: "http-01" } }]
    })
    return Layer.mergeAll(
      AcmeProtocol.layer({ directoryUrl: pebble.directoryUrl }),
      Layer.succeed(Storage.Storage, storage),
      Planner.layer(),
      Reporter.layer,
      ChallengeSolver.layer.pipe(Layer.provide(responders)),
      Layer.succeed(RenewalSettings.RenewalSettings, { config, eab: Option.none() })
    )
  })).pipe(Layer.provide(PebbleHttpClient.layer))

const PebbleLive = Pebble.layer()

/** starts a server on a free port; the Layer's scope stops it */
const startServer = (
  storage: Storage.Service,
  settings: Partial<ServerConfig.ServerConfig> = {},
  renewal: Record<string, unknown> = {}
) =>
  Effect.gen(function*() {
    const context = yield* Effect.context<Pebble.Pebble>()
    const load = Effect.succeed<Environment.Environment>({
      server: { ...ServerConfig.defaults, listen: "127.0.0.1:0", ...settings },
      layer: environment(storage, renewal).pipe(Layer.provide(Layer.succeedContext(context)))
    })
    const built = yield* Layer.build(Server.layer({ load, reloadSignal: false, throttle: { free: 2 } }))
    const server = yield* Effect.provide(HttpServer.HttpServer, built)
    const url = HttpServer.formatAddress(server.address)
    const records = yield* Effect.provide(
      Effect.map(Effect.flatMap(Environment.Current, (current) => current.get), (active) => active.records),
      built
    )
    return { url, records }
  })

const get = (url: string, headers: Record<string, string> = {}) =>
  Effect.promise(async () => {
    const response = await fetch(url, { headers })
    return { status: response.status, headers: response.headers, text: await response.text() }
  })

layer(PebbleLive, { excludeTestServices: true, timeout: 60_000 })("the server in process", (it) => {
  it.scoped("serves its OpenAPI document, the reference page, health, and a problem for an unknown route", () =>
    Effect.gen(function*() {
      const { url } = yield* startServer(yield* Storage.makeMemory)
      const openapi = yield* get(`${url}/v1/openapi.json`)
      expect(openapi.status).toBe(200)
      const spec = JSON.parse(openapi.text) as {
        paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>>
        components: { securitySchemes: Record<string, { type: string }> }
      }
      const renew = spec.paths["/v1/certificates/{name}/renew"]?.post
      expect(Object.keys(renew?.responses ?? {})).toEqual(expect.arrayContaining(["202", "401", "403", "404", "409", "422"]))
      expect(Object.keys(renew?.responses["409"]?.content ?? {})).toEqual(["application/problem+json"])
      expect(spec.paths["/v1/tasks/{id}"]?.get).toBeDefined()
      expect(spec.components.securitySchemes.bearer?.type).toBe("http")
      expect(spec.components.securitySchemes.apiKey?.type).toBe("apiKey")
      const docs = yield* get(`${url}/v1/docs`)
      expect(docs.status).toBe(200)
      expect(docs.headers.get("content-type")).toContain("text/html")
      expect(JSON.parse((yield* get(`${url}/healthz`)).text)).toEqual({ status: "ok" })
      const missing = yield* get(`${url}/v2/anything`)
      expect(missing.status).toBe(404)
      expect(missing.headers.get("content-type")).toBe("application/problem+json")
      expect(JSON.parse(missing.text)).toMatchObject({
        type: "urn:acme-effect:problem:not-found",
        title: "Not Found",
        status: 404,
        instance: "/v2/anything"
      })
    }))

  it.scoped("repeated wrong keys from one address get 429 with Retry-After, then even a good key does", () =>
    Effect.gen(function*() {
      const { records, url } = yield* startServer(yield* Storage.makeMemory)
      const good = Redacted.value((yield* ApiKeys.create(records, { name: "t", scope: "read", actor: "test" })).key)
      expect((yield* get(`${url}/v1/tasks/x`, { authorization: `Bearer ${good}` })).status).toBe(404)
      for (const attempt of [1, 2]) {
        const wrong = yield* get(`${url}/v1/certificates`, { "x-api-key": `acme_wrong${attempt}` })
        expect(wrong.status).toBe(401)
      }
      // the third wrong key is still refused as unknown, and blocks the address from then on
      expect((yield* get(`${url}/v1/certificates`, { "x-api-key": "acme_wrong3" })).status).toBe(401)
      const blocked = yield* get(`${url}/v1/certificates`, { authorization: `Bearer ${good}` })
      expect(blocked.status).toBe(429)
      expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThanOrEqual(1)
      expect(JSON.parse(blocked.text)).toMatchObject({ status: 429, type: "urn:acme-effect:problem:too-many-requests" })
    }))

  it.scoped("server.metricsAuth: /metrics, /healthz and /readyz need a read key; publicStatus shows the page without one", () =>
    Effect.gen(function*() {
      const { records, url } = yield* startServer(yield* Storage.makeMemory, { metricsAuth: true, publicStatus: true })
      const reader = Redacted.value((yield* ApiKeys.create(records, { name: "prom", scope: "read", actor: "test" })).key)
      for (const route of ["/metrics", "/healthz", "/readyz"]) {
        const refused = yield* get(`${url}${route}`)
        expect(refused.status, route).toBe(401)
        expect(refused.headers.get("content-type")).toBe("application/problem+json")
      }
      const metrics = yield* get(`${url}/metrics`, { authorization: `Bearer ${reader}` })
      expect(metrics.status).toBe(200)
      expect(metrics.text).toContain("# TYPE process_resident_memory_bytes gauge")
      const ready = yield* get(`${url}/readyz`, { "x-api-key": reader })
      expect(ready.status, ready.text).toBe(200)
      expect(JSON.parse(ready.text)).toMatchObject({ status: "ready", storage: "memory" })
      const page = yield* get(`${url}/`)
      expect(page.status).toBe(200)
      expect(page.text).toContain("data-certificate=\"web\"")
    }))

  it.scoped("a task that a stopped process left running is run at start, through Renewal.renew", () =>
    Effect.gen(function*() {
      const storage = yield* Storage.makeMemory
      const records = storage.records ?? expect.unreachable("memory storage keeps records")
      yield* records.saveTask({
        id: "t-left-running",
        action: "renew",
        certificate: CertificateName.make("web"),
        force: true,
        status: "running",
        requestedBy: "k_test",
        createdAt: "2026-01-01T00:00:00.000Z",
        startedAt: "2026-01-01T00:00:01.000Z"
      })
      yield* startServer(storage)
      const deadline = performance.now() + 45_000
      for (;;) {
        const task = Option.getOrThrow(yield* records.loadTask("t-left-running"))
        if (task.status === "succeeded" || task.status === "failed") {
          expect(task.status, JSON.stringify(task.error)).toBe("succeeded")
          expect(task.result?.certificates.map((c) => [c.name, c.action])).toContainEqual(["web", "renewed"])
          break
        }
        if (performance.now() > deadline) return expect.unreachable("the task left running was not run")
        yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 200)))
      }
      const stored = Option.getOrThrow(yield* storage.loadCertificate(CertificateName.make("web")))
      const audit = yield* records.readAudit()
      expect(audit).toContainEqual(expect.objectContaining({
        actor: "k_test",
        action: "renew",
        certificate: "web",
        result: "renewed",
        task: "t-left-running"
      }))
      expect(stored.metadata.serialNumber.length).toBeGreaterThan(0)
    }))

  it.scoped("a task another live server holds is left to it, and taken over once that server lets it go", () =>
    Effect.gen(function*() {
      const storage = yield* Storage.makeMemory
      const records = storage.records ?? expect.unreachable("memory storage keeps records")
      const other = { runId: "serve-20260101T000000Z-0a0b0c0d", host: "another-host", pid: 4242 }
      yield* records.saveTask({
        id: "t-held",
        action: "renew",
        certificate: CertificateName.make("web"),
        force: true,
        status: "running",
        requestedBy: "k_test",
        holder: other,
        createdAt: "2026-01-01T00:00:00.000Z",
        startedAt: "2026-01-01T00:00:01.000Z"
      })
      const lease = yield* storage.acquireLease({ certificate: Lease.runKey("task.t-held"), holder: other, ttl: "1 minute" })
      // this server looks for tasks to take over at start and every leaseTtl (2 seconds here)
      yield* startServer(storage, {}, { leaseTtl: "2 seconds" })
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 3_500)))
      const untouched = Option.getOrThrow(yield* records.loadTask("t-held"))
      expect(untouched.status).toBe("running")
      expect(untouched.holder).toEqual(other)
      expect((yield* records.readAudit()).filter((entry) => entry.task === "t-held")).toEqual([])
      // the other server stops and lets go of the task: this one takes it over and runs it
      yield* storage.releaseLease(lease)
      const deadline = performance.now() + 45_000
      for (;;) {
        const task = Option.getOrThrow(yield* records.loadTask("t-held"))
        if (task.status === "succeeded" || task.status === "failed") {
          expect(task.status, JSON.stringify(task.error)).toBe("succeeded")
          expect(task.holder?.runId).toMatch(/^serve-/)
          expect(task.holder?.runId).not.toBe(other.runId)
          expect(task.result?.certificates.map((c) => [c.name, c.action])).toContainEqual(["web", "renewed"])
          break
        }
        if (performance.now() > deadline) return expect.unreachable("the released task was not taken over")
        yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 200)))
      }
      // its lease was let go once its end was stored
      expect(yield* storage.loadLease(Lease.runKey("task.t-held"))).toEqual(Option.none())
    }))
})
