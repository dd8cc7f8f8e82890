/**
 * `acme serve` as a process, against a real Pebble over real HTTP: the REST API with API keys and
 * problem documents, tasks that run the SDK's programs, /metrics parsed as Prometheus text, spans
 * received over OTLP/HTTP, SIGHUP with a broken file, SIGTERM (idle, and in the middle of a
 * renewal), the audit log, and a restart. The server talks to Pebble through a FaultProxy, which
 * counts every request it sends to the CA (and can hold a renewal back).
 */
import { FaultProxy, Pebble, Requirement } from "@acme/testing"
import { Storage } from "@acme/sdk"
import { expect, layer } from "@effect/vitest"
import { Context, Effect, Layer, Schema } from "effect"
import { X509Certificate } from "node:crypto"
import * as fs from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as path from "node:path"
import { acme, temporaryFolder } from "./support/cli.js"
import * as Prometheus from "./support/prometheus.js"
import { poll } from "./support/poll.js"
import { serve, type Served } from "./support/serve.js"

const chromiumPath = "/usr/bin/chromium"
// the status page test needs Chromium (scripts/setup.sh installs Debian's); under CI it must be there
const chromium = Requirement.decide({
  what: "Chromium at /usr/bin/chromium",
  missing: fs.existsSync(chromiumPath) ? undefined : "run scripts/setup.sh (apt-get install -y chromium)"
})
const artifacts = path.resolve(import.meta.dirname, "../test-artifacts")

interface Key {
  readonly id: string
  readonly key: string
}

interface Span {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId?: string
  readonly name: string
  readonly attributes: ReadonlyArray<{ readonly key: string; readonly value: Record<string, unknown> }>
}

/** an attribute's value, whatever its OTLP type (intValue comes as a string or a number) */
const attribute = (span: Span, key: string): unknown => {
  const value = span.attributes.find((a) => a.key === key)?.value
  if (value === undefined) return undefined
  if ("intValue" in value) return Number(value.intValue)
  if ("doubleValue" in value) return Number(value.doubleValue)
  return Object.values(value)[0]
}

interface Fixture {
  readonly folder: string
  readonly storage: string
  readonly config: string
  readonly configText: string
  readonly keys: { readonly write: Key; readonly read: Key; readonly revoked: Key }
  readonly spans: Array<Span>
  readonly otlpUrl: string
  readonly server: { current: Served }
}

class Files extends Context.Tag("test/ServeFixture")<Files, Fixture>() {}

const configFor = (pebble: Pebble.Service, proxy: FaultProxy.Service) => ({
  ca: { directory: proxy.directoryUrl, trust: ["./proxy-ca.pem"] },
  account: { email: "ops@example.com" },
  storage: { path: "./storage" },
  renewal: { maxAttempts: 2, maxWait: "5 seconds" },
  server: { listen: "127.0.0.1:0", interval: "12 hours" },
  certificates: [
    {
      name: "web",
      domains: ["web.serve.example.test"],
      challenge: { type: "http-01", port: pebble.httpPort, address: "127.0.0.1" }
    },
    {
      name: "api",
      domains: ["api.serve.example.test"],
      challenge: { type: "http-01", port: pebble.httpPort, address: "127.0.0.1" }
    }
  ]
})

/** an OTLP/HTTP receiver (JSON): what acme serve exports lands in `spans` */
const otlpReceiver = Effect.acquireRelease(
  Effect.promise(() =>
    new Promise<{ server: http.Server; spans: Array<Span>; url: string }>((resolve) => {
      const spans: Array<Span> = []
      const server = http.createServer((request, response) => {
        let body = ""
        request.setEncoding("utf8").on("data", (chunk: string) => (body += chunk)).on("end", () => {
          if (request.url === "/v1/traces" && body.length > 0) {
            const document = JSON.parse(body) as {
              resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: Array<Span> }> }>
            }
            for (const resource of document.resourceSpans ?? []) {
              for (const scope of resource.scopeSpans ?? []) spans.push(...(scope.spans ?? []))
            }
          }
          response.writeHead(200, { "content-type": "application/json" }).end("{}")
        })
      })
      server.listen(0, "127.0.0.1", () =>
        resolve({ server, spans, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }))
    })
  ),
  ({ server }) => Effect.promise(() => new Promise<void>((resolve) => server.close(() => resolve())))
)

const createKey = (config: string, name: string, scope: "read" | "write") =>
  Effect.promise(() => acme(["apikey", "create", "--config", config, "--name", name, "--scope", scope, "--json"])).pipe(
    Effect.map((result) => {
      expect(result.code, result.stderr).toBe(0)
      return JSON.parse(result.stdout) as Key
    })
  )

const start = (fixture: { readonly config: string; readonly folder: string; readonly otlpUrl: string }) =>
  Effect.promise(() =>
    serve(["--config", fixture.config], {
      cwd: fixture.folder,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: fixture.otlpUrl }
    })
  )

interface Answer {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  readonly json: unknown
}

const call = (
  base: string,
  method: string,
  route: string,
  options: { readonly key?: string; readonly header?: "bearer" | "x-api-key"; readonly body?: string } = {}
) =>
  Effect.promise(async (): Promise<Answer> => {
    const headers: Record<string, string> = {}
    if (options.key !== undefined) {
      if (options.header === "x-api-key") headers["x-api-key"] = options.key
      else headers["authorization"] = `Bearer ${options.key}`
    }
    if (options.body !== undefined) headers["content-type"] = "application/json"
    const response = await fetch(`${base}${route}`, {
      method,
      headers,
      redirect: "manual",
      ...(options.body === undefined ? {} : { body: options.body })
    })
    const text = await response.text()
    let json: unknown = undefined
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
    return { status: response.status, headers: response.headers, text, json }
  })

const api = (
  method: string,
  route: string,
  options: { readonly key?: string; readonly header?: "bearer" | "x-api-key"; readonly body?: string } = {}
) => Effect.flatMap(Files, (files) => call(files.server.current.url, method, route, options))

interface CertificateStatus {
  readonly name: string
  readonly serial?: string
  readonly notAfter?: string
  readonly daysLeft?: number
}

const certificates = Effect.gen(function*() {
  const { keys } = yield* Files
  const answer = yield* api("GET", "/v1/certificates", { key: keys.read.key })
  expect(answer.status).toBe(200)
  return (answer.json as { certificates: ReadonlyArray<CertificateStatus> }).certificates
})

const taskDone = (id: string) =>
  poll(`task ${id}`, Effect.gen(function*() {
    const { keys } = yield* Files
    const answer = yield* api("GET", `/v1/tasks/${id}`, { key: keys.read.key })
    expect(answer.status).toBe(200)
    const task = (answer.json as { task: { status: string; result?: unknown; error?: { message: string } } }).task
    return task.status === "succeeded" || task.status === "failed" ? task : undefined
  }))

const onDisk = (storage: string, name: string) => ({
  metadata: Schema.decodeUnknownSync(Schema.parseJson(Storage.CertificateMetadata))(
    fs.readFileSync(path.join(storage, "live", name, "metadata.json"), "utf8")
  ),
  certificate: new X509Certificate(fs.readFileSync(path.join(storage, "live", name, "cert.pem")))
})

/** the serial as the API prints it and as X509Certificate does: hex, no leading zeros, lower case */
const sameSerial = (a: string, b: string) => a.replace(/^0+/, "").toLowerCase() === b.replace(/^0+/, "").toLowerCase()

const expectProblem = (answer: Answer, status: number, route: string) => {
  expect(answer.status, answer.text).toBe(status)
  expect(answer.headers.get("content-type")).toMatch(/^application\/problem\+json/)
  const problem = answer.json as Record<string, unknown>
  expect(problem).toMatchObject({ status, instance: route })
  expect(problem.type).toMatch(/^urn:acme-effect:problem:[a-z-]+$/)
  expect(typeof problem.title).toBe("string")
  expect(typeof problem.detail).toBe("string")
  // one line for a person: no stack trace, no schema text
  expect(problem.detail).not.toMatch(/\n|at .*\.(ts|js|mjs):\d|Expected|readonly|Schema|ParseError/)
  return problem as { readonly detail: string }
}

/** acme_ca_requests_total as /metrics has it: the sum, and by endpoint */
const caRequests = Effect.gen(function*() {
  const answer = yield* api("GET", "/metrics")
  expect(answer.status).toBe(200)
  const samples = Prometheus.parse(answer.text).get("acme_ca_requests_total")?.samples ?? []
  const byEndpoint = new Map<string, number>()
  for (const sample of samples) {
    const key = `${sample.labels.method} ${sample.labels.endpoint} ${sample.labels.status}`
    byEndpoint.set(key, (byEndpoint.get(key) ?? 0) + sample.value)
  }
  return { total: samples.reduce((sum, sample) => sum + sample.value, 0), byEndpoint }
})

/** what the FaultProxy forwarded to Pebble so far */
const forwarded = Effect.flatMap(FaultProxy.FaultProxy, (proxy) => proxy.exchanges)

const orders = Effect.map(forwarded, (all) => all.filter((x) => x.method === "POST" && x.path === "/order-plz").length)

/** the counter and the proxy, once neither moves any more (the metrics refresh after a task is done) */
const settled = poll("the CA requests to settle", Effect.gen(function*() {
  const first = { metrics: (yield* caRequests).total, proxy: (yield* forwarded).length }
  yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 300)))
  const metrics = yield* caRequests
  const proxy = yield* forwarded
  return metrics.total === first.metrics && proxy.length === first.proxy ? { metrics, proxy } : undefined
}))

/**
 * No attribute of any span received holds key material: not an API key, not a line of a private key
 * (account keys, certificate keys), not a JWS (its protected header or signature), not an EAB HMAC.
 */
const noKeyMaterialInSpans = Effect.gen(function*() {
  const { keys, spans, storage } = yield* Files
  const pems = (folder: string, name: string) =>
    fs.readdirSync(folder, { recursive: true, encoding: "utf8" })
      .filter((file) => file.endsWith(name))
      .map((file) => fs.readFileSync(path.join(folder, file), "utf8"))
  const privateKeys = [...pems(path.join(storage, "accounts"), "account.key"), ...pems(path.join(storage, "live"), "privkey.pem")]
  expect(privateKeys.length).toBeGreaterThanOrEqual(3)
  const secrets = [
    ...Object.values(keys).map((key) => key.key),
    // every base64 line of every key
    ...privateKeys.flatMap((pem) => pem.split("\n").filter((line) => line.length > 20 && !line.startsWith("-----")))
  ]
  expect(spans.length).toBeGreaterThan(50)
  for (const span of spans) {
    for (const { key, value } of span.attributes) {
      const text = JSON.stringify(value)
      expect(text, `${span.name} ${key}`).not.toMatch(/PRIVATE KEY|"protected"|"signature"|"payload"|hmac/i)
      for (const secret of secrets) expect(text.includes(secret), `${span.name} ${key}`).toBe(false)
    }
  }
})

const FixtureLive = Layer.scoped(
  Files,
  Effect.gen(function*() {
    const pebble = yield* Pebble.Pebble
    const proxy = yield* FaultProxy.FaultProxy
    const folder = yield* Effect.acquireRelease(Effect.sync(() => temporaryFolder("acme-serve-test-")), (f) =>
      Effect.sync(f.remove))
    fs.writeFileSync(path.join(folder.path, "proxy-ca.pem"), proxy.caBundle)
    const config = path.join(folder.path, "acme.yaml")
    const configText = JSON.stringify(configFor(pebble, proxy), null, 2)
    fs.writeFileSync(config, configText)
    const receiver = yield* otlpReceiver
    const keys = {
      write: yield* createKey(config, "writer", "write"),
      read: yield* createKey(config, "reader", "read"),
      revoked: yield* createKey(config, "old", "write")
    }
    const fixture = { folder: folder.path, config, otlpUrl: receiver.url }
    const first = yield* start(fixture)
    const server = { current: first }
    yield* Effect.addFinalizer(() => Effect.promise(() => server.current.stop("SIGKILL")))
    return {
      ...fixture,
      storage: path.join(folder.path, "storage"),
      configText,
      keys,
      spans: receiver.spans,
      server
    }
  })
)

layer(
  FixtureLive.pipe(
    Layer.provideMerge(FaultProxy.layer),
    Layer.provideMerge(Pebble.layer({ challengeServers: "external" }))
  ),
  {
    excludeTestServices: true,
    timeout: 120_000
  }
)("acme serve", (it) => {
  it.effect("renews every configured certificate once at start, through the scheduler", () =>
    Effect.gen(function*() {
      const issued = yield* poll("the first certificates", Effect.map(certificates, (all) =>
        all.length === 2 && all.every((c) => c.serial !== undefined) ? all : undefined))
      const { storage } = yield* Files
      for (const certificate of issued) {
        const disk = onDisk(storage, certificate.name)
        expect(sameSerial(certificate.serial ?? "", disk.metadata.serialNumber)).toBe(true)
        expect(sameSerial(certificate.serial ?? "", disk.certificate.serialNumber)).toBe(true)
        expect(certificate.daysLeft).toBeGreaterThan(1000)
      }
    }), 90_000)

  it.effect("401 without a key, with an unknown key and with a revoked key; 403 for a read key on POST", () =>
    Effect.gen(function*() {
      const { config, keys } = yield* Files
      expectProblem(yield* api("GET", "/v1/certificates"), 401, "/v1/certificates")
      expectProblem(yield* api("GET", "/v1/certificates", { key: "acme_not-a-key" }), 401, "/v1/certificates")
      // the key works, in either header, until it is revoked
      expect((yield* api("GET", "/v1/certificates", { key: keys.revoked.key, header: "x-api-key" })).status).toBe(200)
      const revoked = yield* Effect.promise(() => acme(["apikey", "revoke", keys.revoked.id, "--config", config]))
      expect(revoked.code, revoked.stderr).toBe(0)
      const problem = expectProblem(yield* api("GET", "/v1/certificates", { key: keys.revoked.key }), 401, "/v1/certificates")
      expect(problem.detail).toContain("revoked")
      const listed = yield* Effect.promise(() => acme(["apikey", "list", "--config", config, "--json"]))
      const entries = (JSON.parse(listed.stdout) as { keys: Array<{ id: string; revokedAt?: string }> }).keys
      expect(entries.find((k) => k.id === keys.revoked.id)?.revokedAt).toBeDefined()
      expect(listed.stdout).not.toContain(keys.write.key)

      const forbidden = expectProblem(
        yield* api("POST", "/v1/certificates/web/renew", { key: keys.read.key }),
        403,
        "/v1/certificates/web/renew"
      )
      expect(forbidden.detail).toContain("write")
      // the stored keys are hashes: no key is in the storage folder
      const { storage } = yield* Files
      const stored = fs.readdirSync(path.join(storage, "server", "apikeys")).map((file) =>
        fs.readFileSync(path.join(storage, "server", "apikeys", file), "utf8")
      ).join("\n")
      for (const key of Object.values(keys)) expect(stored).not.toContain(key.key.slice(5))
    }))

  it.effect("404 for an unknown certificate and task, 422 for a malformed body", () =>
    Effect.gen(function*() {
      const { keys } = yield* Files
      const key = keys.write.key
      expectProblem(yield* api("GET", "/v1/certificates/nope", { key }), 404, "/v1/certificates/nope")
      expectProblem(yield* api("POST", "/v1/certificates/nope/renew", { key }), 404, "/v1/certificates/nope/renew")
      expectProblem(yield* api("GET", "/v1/tasks/t-unknown", { key }), 404, "/v1/tasks/t-unknown")
      expectProblem(yield* api("GET", "/v1/nothing-here", { key }), 404, "/v1/nothing-here")
      const route = "/v1/certificates/web/revoke"
      const notJson = expectProblem(yield* api("POST", route, { key, body: "{reason:" }), 422, route)
      expect(notJson.detail).toContain("not JSON")
      const missing = expectProblem(yield* api("POST", route, { key, body: "{}" }), 422, route)
      expect(missing.detail).toContain("\"reason\" is missing")
      const wrong = expectProblem(yield* api("POST", route, { key, body: "{\"reason\": \"because\"}" }), 422, route)
      expect(wrong.detail).toContain("keyCompromise")
      const renew = "/v1/certificates/web/renew"
      expectProblem(yield* api("POST", renew, { key, body: "{\"force\": \"yes\"}" }), 422, renew)
      expectProblem(yield* api("POST", renew, { key, body: "{\"forse\": true}" }), 422, renew)
    }))

  let renewedTask = ""

  it.effect("POST renew with a write key: 202 and a task that succeeds; the new serial is the one on disk", () =>
    Effect.gen(function*() {
      const { keys, storage } = yield* Files
      const before = onDisk(storage, "web").metadata.serialNumber
      const counted = yield* settled
      const answer = yield* api("POST", "/v1/certificates/web/renew", { key: keys.write.key, body: "{\"force\": true}" })
      expect(answer.status, answer.text).toBe(202)
      const task = (answer.json as { task: { id: string; status: string } }).task
      expect(task.status).toBe("queued")
      expect(answer.headers.get("location")).toBe(`/v1/tasks/${task.id}`)
      // the same work asked for again while it is queued or running: 409
      expectProblem(
        yield* api("POST", "/v1/certificates/web/renew", { key: keys.write.key, body: "{\"force\": true}" }),
        409,
        "/v1/certificates/web/renew"
      )
      const done = yield* taskDone(task.id)
      expect(done.status, JSON.stringify(done.error)).toBe("succeeded")
      renewedTask = task.id
      const web = (yield* api("GET", "/v1/certificates/web", { key: keys.read.key })).json as CertificateStatus
      const disk = onDisk(storage, "web")
      expect(web.serial).toBeDefined()
      expect(sameSerial(web.serial ?? "", before)).toBe(false)
      expect(sameSerial(web.serial ?? "", disk.metadata.serialNumber)).toBe(true)
      expect(sameSerial(web.serial ?? "", disk.certificate.serialNumber)).toBe(true)

      // acme_ca_requests_total grew by exactly the number of requests that reached the CA
      const after = yield* poll("acme_ca_requests_total to count every request", Effect.gen(function*() {
        const now = yield* settled
        return now.metrics.total - counted.metrics.total === now.proxy.length - counted.proxy.length ? now : undefined
      }))
      const made = after.proxy.slice(counted.proxy.length)
      expect(after.metrics.total - counted.metrics.total).toBe(made.length)
      // and by endpoint: one order, one finalize, one download, each with the status the CA gave
      const grown = (key: string) =>
        (after.metrics.byEndpoint.get(key) ?? 0) - (counted.metrics.byEndpoint.get(key) ?? 0)
      expect(made.filter((x) => x.method === "POST" && x.path === "/order-plz").map((x) => x.status)).toEqual([201])
      expect(grown("POST newOrder 201")).toBe(1)
      expect(made.filter((x) => x.path.startsWith("/finalize-order/")).length).toBe(1)
      expect(grown("POST finalize 200")).toBe(1)
      expect(grown("POST downloadCertificate 200")).toBe(made.filter((x) => x.path.startsWith("/certZ/")).length)
      expect(grown("HEAD newNonce 200") + grown("HEAD newNonce 204")).toBe(made.filter((x) => x.method === "HEAD").length)
      const statuses = [...after.metrics.byEndpoint.keys()].map((key) => key.split(" ")[2])
      expect(statuses.every((status) => /^\d{3}$|^error$/.test(status ?? ""))).toBe(true)
    }), 90_000)

  it.effect("POST revoke: the task succeeds and Pebble has the certificate revoked, for that reason", () =>
    Effect.gen(function*() {
      const { keys, storage } = yield* Files
      const pebble = yield* Pebble.Pebble
      const serial = onDisk(storage, "api").metadata.serialNumber
      const answer = yield* api("POST", "/v1/certificates/api/revoke", {
        key: keys.write.key,
        body: "{\"reason\": \"keyCompromise\"}"
      })
      expect(answer.status, answer.text).toBe(202)
      const done = yield* taskDone((answer.json as { task: { id: string } }).task.id)
      expect(done.status, JSON.stringify(done.error)).toBe("succeeded")
      const atCa = yield* pebble.certificateStatus(serial)
      expect(atCa.status).toBe("Revoked")
      expect(atCa.reason).toBe(1)
    }), 90_000)

  it.effect("/metrics is Prometheus text: expiry equals notAfter, renewals counted, CA requests, process metrics", () =>
    Effect.gen(function*() {
      const { storage } = yield* Files
      // the certificate gauges follow a finished task (set once it is finished, not with its status):
      // wait until the revocation of the previous test shows
      const answer = yield* poll("the revoked certificate's gauge", Effect.map(api("GET", "/metrics"), (answer) => {
        const ready = Prometheus.parse(answer.text).get("acme_certificate_ready_status")?.samples ?? []
        return ready.some((s) => s.labels.name === "api" && s.labels.condition === "False" && s.value === 1)
          ? answer
          : undefined
      }), 20_000)
      expect(answer.status).toBe(200)
      expect(answer.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/)
      const families = Prometheus.parse(answer.text)
      const expiry = families.get("acme_certificate_expiration_timestamp_seconds")
      expect(expiry?.type).toBe("gauge")
      for (const name of ["web", "api"]) {
        const notAfter = Date.parse(onDisk(storage, name).certificate.validTo) / 1000
        expect(expiry?.samples.find((s) => s.labels.name === name)?.value).toBe(notAfter)
        const renewAt = families.get("acme_certificate_renewal_timestamp_seconds")?.samples.find((s) =>
          s.labels.name === name
        )
        expect(renewAt?.value).toBeGreaterThan(0)
      }
      const ready = families.get("acme_certificate_ready_status")?.samples ?? []
      expect(ready.find((s) => s.labels.name === "web" && s.labels.condition === "True")?.value).toBe(1)
      // the revoked certificate is not ready
      expect(ready.find((s) => s.labels.name === "api" && s.labels.condition === "False")?.value).toBe(1)
      const renewals = families.get("acme_renewals_total")
      expect(renewals?.type).toBe("counter")
      // web: issued at start and renewed once on request; api: issued at start
      expect(renewals?.samples.find((s) => s.labels.name === "web" && s.labels.result === "renewed")?.value).toBe(2)
      expect(renewals?.samples.find((s) => s.labels.name === "api" && s.labels.result === "renewed")?.value).toBe(1)
      expect(families.get("acme_run_duration_seconds")?.type).toBe("histogram")
      const runs = families.get("acme_run_duration_seconds")?.samples.find((s) => s.name === "acme_run_duration_seconds_count")
      expect(runs?.value).toBeGreaterThanOrEqual(2)
      expect(families.get("process_resident_memory_bytes")?.samples[0]?.value).toBeGreaterThan(1_000_000)
      expect(families.get("process_cpu_seconds_total")?.samples[0]?.value).toBeGreaterThan(0)
    }))

  it.effect("the spans of a renewal reach an OTLP receiver: run, stages, CA requests; no key material in attributes", () =>
    Effect.gen(function*() {
      const { spans } = yield* Files
      const runs = yield* poll("the renewal's spans", Effect.sync(() => {
        const found = spans.filter((span) =>
          span.name === "Renewal.renew" && spans.some((s) => s.traceId === span.traceId && s.name === "Renewal.store")
        )
        return found.length >= 2 ? found : undefined
      }), 20_000)
      const run = runs[runs.length - 1]
      if (run === undefined) return expect.unreachable()
      const trace = spans.filter((span) => span.traceId === run.traceId)
      const byId = new Map(trace.map((span) => [span.spanId, span]))
      const ancestors = (span: Span): Array<string> => {
        const parent = span.parentSpanId === undefined ? undefined : byId.get(span.parentSpanId)
        return parent === undefined ? [] : [parent.name, ...ancestors(parent)]
      }
      const stage = trace.find((span) => span.name === "Renewal.order")
      expect(stage && ancestors(stage)).toContain("Renewal.renew")
      const caRequest = trace.find((span) => span.name === "AcmeProtocol.http POST")
      expect(caRequest && ancestors(caRequest)).toEqual(expect.arrayContaining(["Renewal.renew"]))
      expect(caRequest && ancestors(caRequest).some((name) => name.startsWith("Renewal.") && name !== "Renewal.renew"))
        .toBe(true)
      const { config } = yield* Files
      const directory = (JSON.parse(fs.readFileSync(config, "utf8")) as { ca: { directory: string } }).ca.directory
      expect(attribute(run, "acme.directory")).toBe(directory)
      expect(attribute(run, "acme.run")).toMatch(/\S/)
      expect(attribute(stage ?? run, "acme.certificate")).toBe("web")
      expect(attribute(stage ?? run, "acme.stage")).toBe("order")
      expect(attribute(stage ?? run, "acme.attempt")).toBe(1)
      expect(attribute(stage ?? run, "acme.directory")).toBe(directory)
      // every stage of the run is there, each with its name as acme.stage
      const stages = trace.filter((span) => span.name.startsWith("Renewal.") && span.name !== "Renewal.renew")
      expect(stages.map((span) => attribute(span, "acme.stage"))).toEqual(
        expect.arrayContaining(["scan", "plan", "account", "order", "present", "verify", "csr", "finalize", "download", "store"])
      )
      for (const span of stages) expect(`Renewal.${String(attribute(span, "acme.stage"))}`).toBe(span.name)
      expect(String(attribute(caRequest ?? run, "url.full"))).toContain(new URL(directory).origin)
      expect(attribute(caRequest ?? run, "http.response.status_code")).toBeTypeOf("number")
      expect(attribute(caRequest ?? run, "acme.operation")).toMatch(/^[a-zA-Z]+$/)

      // nothing secret in any attribute of any span
      yield* noKeyMaterialInSpans
    }), 60_000)

  it.effect("SIGHUP with a broken file: one line, and it keeps serving with the old configuration", () =>
    Effect.gen(function*() {
      const { config, configText, server } = yield* Files
      fs.writeFileSync(config, "certificates: [ this is not\n")
      const rejected = server.current.waitForLine(/SIGHUP: configuration not reloaded/)
      server.current.child.kill("SIGHUP")
      const line = yield* Effect.promise(() => rejected)
      expect(line).toContain("acme.yaml")
      expect((yield* api("GET", "/healthz")).json).toEqual({ status: "ok" })
      expect((yield* certificates).map((c) => c.name)).toEqual(["web", "api"])
      // a good file is taken
      fs.writeFileSync(config, configText)
      const reloaded = server.current.waitForLine(/SIGHUP: configuration reloaded/)
      server.current.child.kill("SIGHUP")
      yield* Effect.promise(() => reloaded)
      expect((yield* api("GET", "/readyz")).status).toBe(200)
    }))

  it.effect("the audit log says who asked for what and what came of it", () =>
    Effect.gen(function*() {
      const { config, keys } = yield* Files
      const result = yield* Effect.promise(() => acme(["audit", "--config", config, "--json"]))
      expect(result.code, result.stderr).toBe(0)
      const entries = (JSON.parse(result.stdout) as {
        entries: Array<{ actor: string; action: string; certificate?: string; result: string; task?: string }>
      }).entries
      const summary = entries.map((e) => `${e.actor} ${e.action} ${e.certificate ?? "-"} ${e.result}`)
      expect(summary).toEqual(expect.arrayContaining([
        "cli apikey.create - created",
        "cli apikey.revoke - revoked",
        "scheduler renew web renewed",
        "scheduler renew api renewed",
        `${keys.write.id} renew web queued`,
        `${keys.write.id} renew web renewed`,
        `${keys.write.id} revoke api revoked`
      ]))
      expect(entries.find((e) => e.task === renewedTask && e.result === "renewed")?.certificate).toBe("web")
      const recent = yield* Effect.promise(() => acme(["audit", "--config", config, "--since", "2999-01-01T00:00:00Z", "--json"]))
      expect((JSON.parse(recent.stdout) as { entries: Array<unknown> }).entries).toEqual([])
    }))

  // registered only when it fails: under CI, a missing Chromium fails the run instead of skipping the test
  if (chromium._tag === "Fail") it("Chromium is there", () => expect.fail(Requirement.message(chromium)))
  it.effect.skipIf(chromium._tag !== "Run")(
    `the status page in headless Chromium: a login, then every certificate with its days left (a screenshot is kept)${
      Requirement.note(chromium)
    }`,
    () =>
      Effect.gen(function*() {
        const { keys, server } = yield* Files
        const statuses = yield* certificates
        const playwright = yield* Effect.promise(() => import("playwright-core"))
        const profile = yield* Effect.acquireRelease(
          Effect.sync(() => temporaryFolder("acme-chromium-")),
          (folder) => Effect.sync(folder.remove)
        )
        const browser = yield* Effect.acquireRelease(
          Effect.promise(() =>
            playwright.chromium.launchPersistentContext(profile.path, {
              executablePath: chromiumPath,
              headless: true,
              args: [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync"
              ],
              // a phone
              viewport: { width: 390, height: 844 },
              deviceScaleFactor: 2
            })
          ),
          (context) => Effect.promise(() => context.close())
        )
        const page = yield* Effect.promise(() => browser.newPage())
        const first = yield* Effect.promise(() => page.goto(`${server.current.url}/`))
        expect(first?.status()).toBe(401)
        yield* Effect.promise(() => page.fill("#key", keys.read.key))
        yield* Effect.promise(() => Promise.all([page.waitForURL(`${server.current.url}/`), page.click("button[type=submit]")]))
        for (const certificate of statuses) {
          const card = page.locator(`[data-certificate="${certificate.name}"]`)
          const days = yield* Effect.promise(() => card.locator(".days strong").textContent())
          expect(days).toBe(String(certificate.daysLeft))
          expect(yield* Effect.promise(() => card.textContent())).toContain("days left")
        }
        expect(yield* Effect.promise(() => page.locator("[data-certificate=api]").textContent())).toContain("Revoked")
        const cookie = (yield* Effect.promise(() => browser.cookies())).find((c) => c.name === "acme_session")
        expect(cookie?.httpOnly).toBe(true)
        expect(cookie?.sameSite).toBe("Strict")
        // readable on a phone: nothing wider than the screen
        const overflow = yield* Effect.promise(() =>
          page.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth")
        )
        expect(overflow).toBeLessThanOrEqual(0)
        fs.mkdirSync(artifacts, { recursive: true })
        yield* Effect.promise(() => page.screenshot({ path: path.join(artifacts, "status-page.png"), fullPage: true }))
        expect(fs.statSync(path.join(artifacts, "status-page.png")).size).toBeGreaterThan(10_000)
        // logging out forgets the key
        yield* Effect.promise(() => Promise.all([page.waitForURL(`${server.current.url}/`), page.click("text=Log out")]))
        expect(yield* Effect.promise(() => page.locator("#key").count())).toBe(1)
      }).pipe(Effect.scoped),
    60_000
  )

  it.effect("SIGTERM during a renewal: exit 0 within 10 s; the restarted server finishes it from its checkpoint, same order", () =>
    Effect.gen(function*() {
      const files = yield* Files
      const proxy = yield* FaultProxy.FaultProxy
      // the renewal at start is over (every certificate is there, nothing goes to the CA any more)
      yield* poll("the first certificates", Effect.map(certificates, (all) =>
        all.length === 2 && all.every((c) => c.serial !== undefined) ? all : undefined))
      yield* settled
      const before = onDisk(files.storage, "web").metadata.serialNumber
      const ordersBefore = yield* orders
      // the CA asks the finalize to wait: the renewal has its order and waits for a retry when SIGTERM comes
      yield* proxy.inject({
        method: "POST",
        path: "/finalize-order/",
        times: 1,
        fault: FaultProxy.status(503, { retryAfter: 4 })
      })
      const answer = yield* api("POST", "/v1/certificates/web/renew", { key: files.keys.write.key, body: "{\"force\": true}" })
      expect(answer.status, answer.text).toBe(202)
      const id = (answer.json as { task: { id: string } }).task.id
      yield* poll("the finalize the CA refused", Effect.map(forwarded, (all) =>
        all.some((x) => x.path.startsWith("/finalize-order/") && x.fault === "Status") ? true : undefined), 30_000)
      const stopped = yield* Effect.promise(() => files.server.current.stop("SIGTERM"))
      expect(stopped.code, files.server.current.lines.join("\n")).toBe(0)
      expect(stopped.millis).toBeLessThan(10_000)
      // nothing was finalized: the task is still "running" in the storage, the order is in the checkpoint
      expect((yield* orders) - ordersBefore).toBe(1)
      const stored = JSON.parse(
        fs.readFileSync(path.join(files.storage, "server", "tasks", `${id}.json`), "utf8")
      ) as { status: string }
      expect(stored.status).toBe("running")
      expect(sameSerial(onDisk(files.storage, "web").metadata.serialNumber, before)).toBe(true)

      files.server.current = yield* start(files)
      const done = yield* taskDone(id)
      expect(done.status, JSON.stringify(done.error)).toBe("succeeded")
      expect(files.server.current.lines.some((line) => line.includes(`task ${id}`) && line.includes("running it again")))
        .toBe(true)
      expect(files.server.current.lines.some((line) => /resuming run \S+, which was interrupted/.test(line))).toBe(true)
      // the same order was finalized: no second one at the CA
      expect((yield* orders) - ordersBefore).toBe(1)
      const finalizes = (yield* forwarded).filter((x) => x.path.startsWith("/finalize-order/"))
      expect(finalizes.slice(-2).map((x) => x.status)).toEqual([503, 200])
      const web = (yield* api("GET", "/v1/certificates/web", { key: files.keys.read.key })).json as CertificateStatus
      expect(sameSerial(web.serial ?? "", before)).toBe(false)
      expect(sameSerial(web.serial ?? "", onDisk(files.storage, "web").certificate.serialNumber)).toBe(true)
      // the traces say so too: the resumed run, and its finalize as the second attempt
      const resumed = yield* poll("the resumed run's spans", Effect.sync(() =>
        files.spans.find((span) =>
          span.name === "Renewal.renew" && attribute(span, "acme.resumptions") === 1 &&
          files.spans.some((s) => s.traceId === span.traceId && s.name === "Renewal.store")
        )), 20_000)
      const finalize = files.spans.find((span) => span.traceId === resumed.traceId && span.name === "Renewal.finalize")
      expect(finalize && attribute(finalize, "acme.attempt")).toBe(2)
      yield* noKeyMaterialInSpans
    }), 90_000)

  it.effect("SIGTERM: exit 0 within 10 s; after a restart the tasks are still there", () =>
    Effect.gen(function*() {
      const files = yield* Files
      const stopped = yield* Effect.promise(() => files.server.current.stop("SIGTERM"))
      expect(stopped.code).toBe(0)
      expect(stopped.millis).toBeLessThan(10_000)
      files.server.current = yield* start(files)
      const answer = yield* api("GET", `/v1/tasks/${renewedTask}`, { key: files.keys.read.key })
      expect(answer.status).toBe(200)
      expect((answer.json as { task: { status: string } }).task.status).toBe("succeeded")
    }), 60_000)
})
