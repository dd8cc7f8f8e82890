import { AccountKey, AcmeProtocol } from "@acme/sdk"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
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
})
