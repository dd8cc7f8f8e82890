/**
 * The LLM planner, built by its plugins, against local servers that speak Anthropic's Messages API
 * and OpenAI's Responses API (what @effect/ai-openai calls): a good answer, a hallucinating one, a
 * forgetful one, garbage, a 429, a 5xx, a timeout (TestClock), and what the request carries.
 */
import { CertificateName, type Planner, RenewalState } from "@acme/sdk"
import { FetchHttpClient } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { HttpStub } from "@acme/testing"
import { describe, expect, it } from "@effect/vitest"
import { DateTime, Effect, Fiber, Layer, Logger, Option, Ref, TestClock } from "effect"

import * as Vendors from "./support/vendors.js"

const DAY = 86_400_000
const NOW = DateTime.unsafeMake("2026-11-23T12:00:00Z")
const CA = "https://ca.example/dir"
const at = (days: number) => DateTime.formatIso(DateTime.unsafeMake(DateTime.toEpochMillis(NOW) + days * DAY))

const ACCOUNT_URL = "https://ca.example/acme/acct/8675309"
const JWK_D = "c2VjcmV0LWQtdmFsdWUtdGhhdC1pcy1sb25nLWVub3VnaA"
const PEM_BODY = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgVcB3zKpX"
const CERT_ID = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"

const current = (patch: Partial<RenewalState.Current>): RenewalState.Current => ({
  serialNumber: "03a1f0c2b4d6e8",
  identifiers: [{ type: "dns", value: "example.org" }],
  keyType: "ec-p256",
  notBefore: at(-40),
  notAfter: at(50),
  certId: CERT_ID,
  directoryUrl: CA,
  ...patch
})

const input = (name: string, domain: string, patch: Partial<Planner.Input> = {}): Planner.Input => ({
  name: CertificateName.make(name),
  identifiers: [{ type: "dns", value: domain }],
  keyType: "ec-p256",
  profile: undefined,
  directoryUrl: CA,
  current: Option.none(),
  force: false,
  ...patch
})

// web: no certificate yet (due); mail: inside its lifetime, with an ARI window ahead (not due);
// api: one day left (due), failed last time with an error that quotes secrets
const inputs: ReadonlyArray<Planner.Input> = [
  input("web", "www.example.org"),
  input("mail", "mail.example.org", {
    current: Option.some(current({
      identifiers: [{ type: "dns", value: "mail.example.org" }],
      renewalInfo: { start: at(40), end: at(42) }
    }))
  }),
  input("api", "api.example.org", {
    current: Option.some(current({
      identifiers: [{ type: "dns", value: "api.example.org" }],
      notBefore: at(-89),
      notAfter: at(1)
    })),
    lastError: `unauthorized: account ${ACCOUNT_URL} refused the request; key -----BEGIN PRIVATE KEY-----\n${PEM_BODY}\n` +
      `-----END PRIVATE KEY----- {"kty":"EC","crv":"P-256","d":"${JWK_D}"}`
  })
]

const entry = (name: string, action: "renew" | "skip", explanation = `${name}: ${action}`) => ({
  name,
  action,
  explanation
})

/** A planner built by the vendor's plugin, pointed at a stub that answers with `script`. */
const withPlanner = (
  vendor: Vendors.Vendor,
  script: (request: HttpStub.Request) => HttpStub.Reply,
  extra: Record<string, unknown> = {}
) =>
  Effect.gen(function*() {
    yield* TestClock.setTime(DateTime.toEpochMillis(NOW))
    // like the real APIs: another path is a 404
    const server = yield* HttpStub.make((request) =>
      request.url === vendor.path ? script(request) : { status: 404, json: { error: { message: "not found" } } }
    )
    const planner = yield* Vendors.build(vendor.planner, { ...vendor.options(server.url), ...extra })
    return { server, planner }
  }).pipe(Effect.provide(Layer.merge(FetchHttpClient.layer, NodeContext.layer)))

/** Log lines, to check what the planner says (and that no key is in it). */
const captureLogs = Effect.gen(function*() {
  const lines = yield* Ref.make<ReadonlyArray<string>>([])
  const logger = Logger.make(({ message }) => {
    const text = (Array.isArray(message) ? message : [message]).map(String).join(" ")
    Effect.runSync(Ref.update(lines, (all) => [...all, text]))
  })
  return { lines: Ref.get(lines), layer: Logger.replace(Logger.defaultLogger, logger) }
})

const actions = (plan: Planner.Plan) => plan.decisions.map((decision) => decision.action)
const DETERMINISTIC = ["renew", "skip", "renew"]

for (const vendor of Vendors.all) {
  describe(`LlmPlanner via ${vendor.provider}`, () => {
    it.scoped("a good answer orders the due certificates and explains them; the decisions stay", () =>
      Effect.gen(function*() {
        const { planner, server } = yield* withPlanner(vendor, (request) =>
          vendor.object(request, {
            certificates: [
              entry("api", "renew", "One day left and it failed last run: renew it first."),
              entry("web", "renew", "No certificate yet."),
              entry("mail", "skip", "Inside its lifetime; the CA's window opens in 40 days.")
            ]
          }))
        const plan = yield* planner.plan(inputs)
        expect(actions(plan)).toEqual(DETERMINISTIC)
        expect(plan.order).toEqual(["api", "web"])
        expect(plan.decisions.map((d) => d.explanation)).toEqual([
          "No certificate yet.",
          "Inside its lifetime; the CA's window opens in 40 days.",
          "One day left and it failed last run: renew it first."
        ])
        expect(plan.decisions[0]?.reason).toBe("there is no certificate yet")
        expect(plan.outcome).toEqual({
          provider: vendor.provider,
          model: vendor.model,
          fallback: false,
          dropped: [],
          restored: [],
          disagreements: []
        })
        expect(yield* server.requests).toHaveLength(1)
      }))

    it.scoped("the request carries the model, the scan and the API key header, and no key material", () =>
      Effect.gen(function*() {
        const { planner, server } = yield* withPlanner(vendor, (request) =>
          vendor.object(request, { certificates: [entry("web", "renew"), entry("mail", "skip"), entry("api", "renew")] }))
        yield* planner.plan(inputs)
        const [request = expect.fail("no request reached the stub")] = yield* server.requests
        expect(request.method).toBe("POST")
        expect(request.url).toBe(vendor.path)
        const body = HttpStub.record(request.json)
        expect(body.model).toBe(vendor.model)
        // structured output: OpenAI's json_schema text format, Anthropic's forced tool call
        if (vendor.provider === "anthropic") {
          expect(body.tool_choice).toMatchObject({ type: "tool", name: "renewal_plan" })
        } else {
          expect(body.text).toMatchObject({ format: { type: "json_schema", name: "renewal_plan", strict: true } })
        }
        const scan = JSON.parse(vendor.userText(request))
        expect(scan.now).toBe("2026-11-23T12:00:00.000Z")
        expect(scan.certificates.map((c: { name: string }) => c.name)).toEqual(["web", "mail", "api"])
        expect(scan.certificates.map((c: { decision: string }) => c.decision)).toEqual(DETERMINISTIC)
        expect(scan.certificates[1]).toMatchObject({
          domains: ["mail.example.org"],
          daysLeft: 50,
          notAfter: at(50),
          ariWindow: { start: at(40), end: at(42) },
          revoked: false
        })
        expect(scan.certificates[2].daysLeft).toBe(1)
        expect(scan.certificates[2].lastError).toBe(
          "unauthorized: account [URL removed] refused the request; key [PEM removed] {\"kty\":\"EC\",\"crv\":\"P-256\",\"d\":\"[removed]\"}"
        )
        // nothing secret, and nothing the scan does not list (serials, CertIDs, the CA's URL)
        for (const secret of ["PRIVATE KEY", "BEGIN", PEM_BODY, JWK_D, ACCOUNT_URL, "8675309", Vendors.API_KEY, CERT_ID, CA, "03a1f0c2b4d6e8"]) {
          expect(request.text).not.toContain(secret)
        }
        // the key travels only in its header
        if (vendor.provider === "anthropic") expect(request.headers["x-api-key"]).toBe(Vendors.API_KEY)
        else if (vendor.provider === "openai") expect(request.headers.authorization).toBe(`Bearer ${Vendors.API_KEY}`)
        else expect(request.headers.authorization).toBeUndefined()
      }))

    it.scoped("a hallucinating answer: invented certificates are dropped and reported", () =>
      Effect.gen(function*() {
        const { planner } = yield* withPlanner(vendor, (request) =>
          vendor.object(request, {
            certificates: [
              entry("legacy-vpn", "renew"),
              entry("api", "renew"),
              entry("web", "renew"),
              entry("shop.example.org", "renew"),
              entry("mail", "skip")
            ]
          }))
        const plan = yield* planner.plan(inputs)
        expect(actions(plan)).toEqual(DETERMINISTIC)
        expect(plan.decisions).toHaveLength(3)
        expect(plan.order).toEqual(["api", "web"])
        expect(plan.outcome).toMatchObject({ fallback: false, dropped: ["legacy-vpn", "shop.example.org"], restored: [] })
      }))

    it.scoped("a forgetful answer: the due certificate it left out is restored with the deterministic decision", () =>
      Effect.gen(function*() {
        const { planner } = yield* withPlanner(vendor, (request) =>
          vendor.object(request, { certificates: [entry("web", "renew"), entry("mail", "renew")] }))
        const plan = yield* planner.plan(inputs)
        expect(actions(plan)).toEqual(DETERMINISTIC)
        expect(plan.order).toEqual(["web", "api"])
        expect(plan.decisions[2]).toMatchObject({ action: "renew", reason: expect.stringMatching(/^1 day|^2[0-9] hours/) })
        expect(plan.outcome).toMatchObject({
          fallback: false,
          dropped: [],
          restored: ["api"],
          disagreements: [{ name: "mail", advised: "renew", kept: "skip" }]
        })
      }))

    it.scoped("garbage instead of a plan: the deterministic plan, with the reason", () =>
      Effect.gen(function*() {
        const logs = yield* captureLogs
        const { planner } = yield* withPlanner(
          vendor,
          (request) => vendor.text(request, "Sure! I would renew web first, then api. Have a nice day.")
        )
        const plan = yield* planner.plan(inputs).pipe(Effect.provide(logs.layer))
        expect(actions(plan)).toEqual(DETERMINISTIC)
        expect(plan.order).toEqual(["web", "api"])
        expect(plan.decisions.every((d) => d.explanation === undefined)).toBe(true)
        expect(plan.outcome).toEqual({
          provider: vendor.provider,
          model: vendor.model,
          fallback: true,
          fallbackReason: "the answer was not a valid plan (it did not match the expected JSON)",
          dropped: [],
          restored: [],
          disagreements: []
        })
        expect(yield* logs.lines).toEqual([
          `planner ${vendor.provider} (${vendor.model}): the answer was not a valid plan (it did not match the expected JSON); following the deterministic plan`
        ])
      }))

    it.scoped("a 429: the deterministic plan at once (asked once, no retry), and no key in the log", () =>
      Effect.gen(function*() {
        const logs = yield* captureLogs
        const { planner, server } = yield* withPlanner(vendor, () => vendor.rateLimited)
        const plan = yield* planner.plan(inputs).pipe(Effect.provide(logs.layer))
        expect(actions(plan)).toEqual(DETERMINISTIC)
        expect(plan.outcome).toMatchObject({
          fallback: true,
          fallbackReason: `${vendor.provider} answered HTTP 429 (rate limited)`
        })
        expect(yield* server.requests).toHaveLength(1)
        const lines = yield* logs.lines
        expect(lines).toHaveLength(1)
        expect(lines.join("\n")).not.toContain(Vendors.API_KEY)
      }))

    it.scoped("a 503 with an HTML body: the deterministic plan", () =>
      Effect.gen(function*() {
        const { planner } = yield* withPlanner(vendor, () => ({
          status: 503,
          text: "<html><h1>503 Service Unavailable</h1></html>",
          contentType: "text/html"
        }))
        const plan = yield* planner.plan(inputs)
        expect(actions(plan)).toEqual(DETERMINISTIC)
        expect(plan.outcome).toMatchObject({
          fallback: true,
          fallbackReason: `${vendor.provider} answered HTTP 503 (server error)`
        })
      }))
  })
}

/** Waits (for real, briefly) until the stub has received `n` requests: the model call is in flight. */
const untilRequests = (server: HttpStub.HttpStub, n: number) =>
  Effect.gen(function*() {
    while ((yield* server.requests).length < n) {
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 5)))
    }
  })

describe("LlmPlanner: timeouts, on the TestClock", () => {
  for (const vendor of [Vendors.anthropic, Vendors.openaiCompatible]) {
    it.scoped(`${vendor.provider}: no answer within 30 seconds → the deterministic plan`, () =>
      Effect.gen(function*() {
        const { planner, server } = yield* withPlanner(vendor, () => "hang")
        const fiber = yield* Effect.fork(planner.plan(inputs))
        yield* untilRequests(server, 1)
        yield* TestClock.adjust("29 seconds")
        expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
        yield* TestClock.adjust("1 second")
        const plan = yield* Fiber.join(fiber)
        expect(actions(plan)).toEqual(DETERMINISTIC)
        expect(plan.order).toEqual(["web", "api"])
        expect(plan.outcome).toMatchObject({
          provider: vendor.provider,
          fallback: true,
          fallbackReason: "the model did not answer within 30 seconds"
        })
      }))
  }

  it.scoped("the timeout option shortens the wait", () =>
    Effect.gen(function*() {
      const { planner, server } = yield* withPlanner(Vendors.openai, () => "hang", { timeout: "5 seconds" })
      const fiber = yield* Effect.fork(planner.plan(inputs))
      yield* untilRequests(server, 1)
      yield* TestClock.adjust("4 seconds")
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      yield* TestClock.adjust("1 second")
      expect((yield* Fiber.join(fiber)).outcome.fallbackReason).toBe("the model did not answer within 5 seconds")
    }))
})

describe("LlmPlanner: a server without the Responses API", () => {
  it.scoped("a 404 (e.g. baseUrl without /v1, or a chat-completions-only server): the deterministic plan, with a hint", () =>
    Effect.gen(function*() {
      // the stub serves /v1/responses only; this baseUrl makes the client ask for /responses
      const { planner, server } = yield* withPlanner(
        Vendors.openaiCompatible,
        (request) => Vendors.openaiCompatible.object(request, { certificates: [] })
      ).pipe(Effect.flatMap(({ server }) =>
        Effect.map(
          Vendors.build(Vendors.openaiCompatible.planner, { model: "llama3.1", baseUrl: server.url }).pipe(
            Effect.provide(Layer.merge(FetchHttpClient.layer, NodeContext.layer))
          ),
          (planner) => ({ planner, server })
        )
      ))
      const plan = yield* planner.plan(inputs)
      expect(actions(plan)).toEqual(DETERMINISTIC)
      expect(plan.outcome.fallbackReason).toBe(
        "openai-compatible answered HTTP 404 (check baseUrl and the model's name; an OpenAI-compatible server must offer the Responses API)"
      )
      expect((yield* server.requests).map((r) => r.url)).toEqual(["/responses"])
    }))
})

describe("LlmPlanner: nothing to plan", () => {
  it.scoped("asks no model when there is no certificate", () =>
    Effect.gen(function*() {
      const { planner, server } = yield* withPlanner(Vendors.openai, () => "hang")
      const plan = yield* planner.plan([])
      expect(plan).toEqual({
        decisions: [],
        order: [],
        outcome: { provider: "openai", model: "gpt-4.1-mini", fallback: false, dropped: [], restored: [], disagreements: [] }
      })
      expect(yield* server.requests).toHaveLength(0)
    }))
})

// the schema of a state is what the pipeline keeps: the outcome round-trips through a checkpoint
describe("PlannerOutcome in the state record", () => {
  it("round-trips through a checkpoint's JSON", () => {
    const outcome: RenewalState.PlannerOutcome = {
      provider: "openai-compatible",
      model: "llama3.1",
      fallback: false,
      dropped: ["ghost"],
      restored: ["api"],
      disagreements: [{ name: "mail", advised: "renew", kept: "skip" }]
    }
    const state: RenewalState.State = {
      version: 1,
      runId: "run-1",
      startedAt: at(0),
      directoryUrl: CA,
      options: { force: false, dryRun: false, only: [] },
      phase: "renew",
      resumptions: 0,
      planner: outcome,
      buckets: []
    }
    expect(Option.getOrThrow(RenewalState.decode(RenewalState.encode(state))).planner).toEqual(outcome)
  })
})
