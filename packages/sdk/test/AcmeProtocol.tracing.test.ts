import { AccountKey, AcmeProtocol } from "@acme/sdk"
import { expect, layer } from "@effect/vitest"
import { Effect, Metric, MetricState } from "effect"
import { issue, newAccount, pebbleProtocol } from "./support/acme.js"
import { recordingTracer } from "./support/tracing.js"

layer(pebbleProtocol(), { excludeTestServices: true })("spans", (it) => {
  it.effect("every HTTP exchange is a span with method, URL, status and problem type, and no key material", () =>
    Effect.gen(function*() {
      const { spans, tracer } = recordingTracer()
      const acme = yield* AcmeProtocol.AcmeProtocol
      const traced = Effect.gen(function*() {
        const session = yield* newAccount()
        yield* issue(session, { identifiers: [{ type: "dns", value: "traced.example.test" }] })
        const stranger = yield* AccountKey.generate()
        yield* Effect.flip(acme.newAccount({
          directory: session.directory,
          nonce: yield* acme.newNonce(session.directory),
          key: stranger,
          onlyReturnExisting: true
        }))
        return { session, stranger }
      }).pipe(Effect.withTracer(tracer))
      const { session, stranger } = yield* traced

      const exchanges = spans.filter((span) => span.name.startsWith("AcmeProtocol.http "))
      expect(exchanges.length).toBeGreaterThan(10)
      for (const span of exchanges) {
        expect(span.ended).toBe(true)
        expect(span.attributes.get("http.request.method")).toMatch(/^(GET|HEAD|POST)$/)
        expect(span.attributes.get("url.full")).toMatch(/^https:\/\/127\.0\.0\.1:\d+\//)
        expect(span.attributes.get("http.response.status_code")).toEqual(expect.any(Number))
      }
      const operations = new Set(exchanges.map((span) => span.attributes.get("acme.operation")))
      for (const operation of ["directory", "newNonce", "newAccount", "newOrder", "finalize", "downloadCertificate"]) {
        expect(operations).toContain(operation)
      }
      const refused = exchanges.find((span) => span.attributes.get("http.response.status_code") === 400)
      expect(refused?.attributes.get("acme.problem.type")).toBe("urn:ietf:params:acme:error:accountDoesNotExist")
      // the operations have spans of their own around the exchanges
      expect(spans.some((span) => span.name === "AcmeProtocol.newOrder")).toBe(true)

      // no private key material in any attribute
      const secrets: Array<string> = []
      for (const key of [session.account.key, stranger]) {
        const jwk = yield* AccountKey.toJwk(key)
        secrets.push(String(jwk.d))
        const pem = yield* AccountKey.toPem(key)
        secrets.push(pem.split("\n")[1] ?? "")
      }
      const everything = JSON.stringify(spans.map((span) => [span.name, [...span.attributes.entries()]]))
      for (const secret of secrets) expect(everything).not.toContain(secret)
    }), 60_000)

  /** acme_ca_requests_total now, by "method endpoint status" */
  const caRequests = Effect.map(Metric.snapshot, (pairs) => {
    const counts = new Map<string, number>()
    for (const pair of pairs) {
      if (pair.metricKey.name !== "acme_ca_requests_total" || !MetricState.isCounterState(pair.metricState)) continue
      const label = (key: string) => pair.metricKey.tags.find((tag) => tag.key === key)?.value
      counts.set(`${label("method")} ${label("endpoint")} ${label("status")}`, Number(pair.metricState.count))
    }
    return counts
  })

  it.effect("every HTTP exchange is counted once in acme_ca_requests_total, by endpoint, method and status", () =>
    Effect.gen(function*() {
      const { spans, tracer } = recordingTracer()
      const before = yield* caRequests
      yield* Effect.gen(function*() {
        const session = yield* newAccount()
        yield* issue(session, { identifiers: [{ type: "dns", value: "counted.example.test" }] })
      }).pipe(Effect.withTracer(tracer))
      const after = yield* caRequests

      const expected = new Map<string, number>()
      for (const span of spans.filter((span) => span.name.startsWith("AcmeProtocol.http "))) {
        const key = `${span.attributes.get("http.request.method")} ${span.attributes.get("acme.operation")} ${
          span.attributes.get("http.response.status_code")
        }`
        expected.set(key, (expected.get(key) ?? 0) + 1)
      }
      const grown = new Map<string, number>()
      for (const [key, count] of after) {
        if (count > (before.get(key) ?? 0)) grown.set(key, count - (before.get(key) ?? 0))
      }
      expect(grown).toEqual(expected)
      expect(grown.get("POST newOrder 201")).toBe(1)
      expect(grown.get("POST finalize 200")).toBe(1)
    }), 60_000)
})
