/**
 * The LLM reporter, built by its plugins, against local servers speaking each vendor's wire format:
 * the deterministic report plus a prose `summary`; without a summary (and without failing) on a
 * 429, garbage-free empty answers and a timeout.
 */
import { CertificateName, Reporter, type RenewalState } from "@acme/sdk"
import { FetchHttpClient } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { HttpStub } from "@acme/testing"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Option, TestClock } from "effect"

import * as Vendors from "./support/vendors.js"

const state: RenewalState.State = {
  version: 1,
  runId: "20261123T120000Z-4f2a",
  startedAt: "2026-11-23T12:00:00.000Z",
  directoryUrl: "https://ca.example/dir",
  options: { force: false, dryRun: false, only: [] },
  phase: "done",
  resumptions: 0,
  planner: { provider: "openai", model: "gpt-4.1-mini", fallback: false, dropped: ["ghost"], restored: [], disagreements: [] },
  buckets: [
    {
      name: CertificateName.make("web"),
      identifiers: [{ type: "dns", value: "www.example.org" }],
      stage: "done",
      attempts: 1,
      result: {
        action: "renewed",
        reason: "there is no certificate yet",
        serialNumber: "03a1f0c2b4d6e8",
        notAfter: "2027-02-21T12:00:00.000Z",
        paths: {
          cert: "/var/lib/acme/live/web/cert.pem",
          chain: "/var/lib/acme/live/web/chain.pem",
          fullchain: "/var/lib/acme/live/web/fullchain.pem",
          privkey: "/var/lib/acme/live/web/privkey.pem"
        }
      }
    },
    {
      name: CertificateName.make("api"),
      identifiers: [{ type: "dns", value: "api.example.org" }],
      stage: "failed",
      attempts: 3,
      lastError: {
        tag: "Unauthorized",
        message:
          "newOrder: unauthorized: account https://ca.example/acme/acct/8675309 is deactivated; -----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkq\n-----END EC PRIVATE KEY-----",
        retryable: false,
        stage: "order",
        at: "2026-11-23T12:00:05.000Z"
      }
    }
  ]
}

const deterministic = Reporter.fromState(state)

const PROSE = "One certificate, web, was renewed.\n\nThe api certificate failed: the CA says the account is deactivated; " +
  "create a new account before the next run."

const withReporter = (vendor: Vendors.Vendor, script: (request: HttpStub.Request) => HttpStub.Reply) =>
  Effect.gen(function*() {
    const server = yield* HttpStub.make((request) =>
      request.url === vendor.path ? script(request) : { status: 404, json: { error: { message: "not found" } } }
    )
    const reporter = yield* Vendors.build(vendor.reporter, vendor.options(server.url))
    return { server, reporter }
  }).pipe(Effect.provide(Layer.merge(FetchHttpClient.layer, NodeContext.layer)))

for (const vendor of Vendors.all) {
  describe(`LlmReporter via ${vendor.provider}`, () => {
    it.scoped("adds the model's prose as `summary` to the deterministic report, which is unchanged", () =>
      Effect.gen(function*() {
        const { reporter, server } = yield* withReporter(vendor, (request) => vendor.text(request, `  ${PROSE}  `))
        const report = yield* reporter.summarize(state)
        const { summary, ...rest } = report
        expect(summary).toBe(PROSE)
        expect(rest).toEqual(deterministic)
        const [request = expect.fail("no request reached the stub")] = yield* server.requests
        expect(HttpStub.record(request.json).model).toBe(vendor.model)
        // plain text: no structured output format, no forced tool
        expect(request.text).not.toContain("json_schema")
        expect(request.text).not.toContain("tool_choice\":{\"type\":\"tool\"")
        const shown = JSON.parse(vendor.userText(request))
        expect(shown.certificates.map((c: { name: string; action: string }) => [c.name, c.action])).toEqual([
          ["web", "renewed"],
          ["api", "failed"]
        ])
        expect(shown.certificates[1].error).toEqual({
          type: "Unauthorized",
          stage: "order",
          message: "newOrder: unauthorized: account [URL removed] is deactivated; [PEM removed]"
        })
        expect(shown.planner).toEqual({ provider: "openai", fallback: false, dropped: ["ghost"], restored: [] })
        for (const hidden of ["PRIVATE KEY", "MHcCAQEEIBkq", "8675309", "/var/lib/acme", "03a1f0c2b4d6e8", state.runId, state.directoryUrl]) {
          expect(request.text).not.toContain(hidden)
        }
      }))

    it.scoped("a 429: the deterministic report, without a summary; the run is not failed", () =>
      Effect.gen(function*() {
        const { reporter } = yield* withReporter(vendor, () => vendor.rateLimited)
        expect(yield* reporter.summarize(state)).toEqual(deterministic)
      }))

    it.scoped("an empty answer: no summary", () =>
      Effect.gen(function*() {
        const { reporter } = yield* withReporter(vendor, (request) => vendor.text(request, "   "))
        const report = yield* reporter.summarize(state)
        expect(report.summary).toBeUndefined()
        expect(report).toEqual(deterministic)
      }))
  })
}

describe("LlmReporter: timeout", () => {
  it.scoped("no answer within 30 seconds (TestClock): the deterministic report", () =>
    Effect.gen(function*() {
      const { reporter, server } = yield* withReporter(Vendors.anthropic, () => "hang")
      const fiber = yield* Effect.fork(reporter.summarize(state))
      while ((yield* server.requests).length === 0) {
        yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 5)))
      }
      yield* TestClock.adjust("29 seconds")
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      yield* TestClock.adjust("1 second")
      expect(yield* Fiber.join(fiber)).toEqual(deterministic)
    }))

  it.scoped("a report without certificates asks no model", () =>
    Effect.gen(function*() {
      const { reporter, server } = yield* withReporter(Vendors.openai, () => "hang")
      const report = yield* reporter.summarize({ ...state, buckets: [] })
      expect(report.certificates).toEqual([])
      expect(yield* server.requests).toHaveLength(0)
    }))
})
