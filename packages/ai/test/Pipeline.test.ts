/**
 * The renewal pipeline against a real Pebble with an `openai-compatible` planner pointed at a local
 * Responses API stub that invents certificates, disagrees, and leaves out a certificate that is due:
 * exactly the due certificates are renewed, and the report's `planner` says what was dropped and
 * restored. The first run has no LLM at all: the deterministic planner, and the stub is never asked.
 */
import { LlmPlugins } from "@acme/ai"
import {
  AcmeProtocol,
  CertificateName,
  ChallengeSolver,
  Planner,
  Plugin,
  Renewal,
  RenewalConfig,
  RenewalSettings,
  Reporter,
  Storage
} from "@acme/sdk"
import { HttpStub, Pebble, PebbleHttpClient } from "@acme/testing"
import { NodeContext } from "@effect/platform-node"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer, Option, Schema } from "effect"
import * as VendorReplies from "./support/vendorReplies.js"
import * as Vendors from "./support/vendors.js"

/** http-01 answered through challtestsrv, which Pebble validates against. */
const responders = Layer.unwrapEffect(
  Effect.map(Pebble.Pebble, (pebble) =>
    Layer.succeed(ChallengeSolver.Http01Responder, {
      present: (task) => Effect.orDie(pebble.addHttp01(task.token, task.keyAuthorization)),
      cleanup: (task) => Effect.ignore(pebble.removeHttp01(task.token))
    }))
)

const services = Layer.mergeAll(
  Layer.unwrapEffect(
    Effect.map(Pebble.Pebble, (pebble) =>
      AcmeProtocol.layer({ directoryUrl: pebble.directoryUrl, pollInterval: "50 millis" }))
  ),
  ChallengeSolver.layer.pipe(Layer.provide(responders)),
  Storage.layerMemory,
  NodeContext.layer
).pipe(Layer.provideMerge(PebbleHttpClient.layer), Layer.provideMerge(Pebble.layer()))

const settingsFor = (names: ReadonlyArray<string>) =>
  Layer.effect(
    RenewalSettings.RenewalSettings,
    Effect.map(Pebble.Pebble, (pebble) => ({
      config: Schema.decodeUnknownSync(RenewalConfig.RenewalConfig)({
        ca: { directory: pebble.directoryUrl },
        account: { email: "ops@example.test" },
        storage: { path: "memory" },
        certificates: names.map((name) => ({
          name,
          domains: [`${name}.llm.example.test`],
          challenge: { type: "http-01" }
        }))
      }),
      eab: Option.none()
    }))
  )

layer(services, { excludeTestServices: true })("the pipeline with an LLM planner, against Pebble", (it) => {
  it.scoped("renews exactly the due certificates whatever the model says, and reports dropped and restored", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const storage = yield* Storage.Storage
      // a Responses API stub: invents two certificates, wants to renew alpha (not due), leaves out beta (due)
      const stub = yield* HttpStub.make((request) =>
        request.url === "/v1/responses"
          ? VendorReplies.openAiResponse(
            request,
            JSON.stringify({
              certificates: [
                { name: "legacy-vpn", action: "renew", explanation: "Expires soon." },
                { name: "gamma", action: "renew", explanation: "No certificate yet." },
                { name: "alpha", action: "renew", explanation: "Renew it too, to be safe." },
                { name: "www.example.com", action: "renew", explanation: "Renew now." }
              ]
            })
          )
          : { status: 404, json: { error: { message: "not found" } } }
      )

      // run 1, no LLM at all: the deterministic planner and reporter
      const first = yield* Renewal.renew().pipe(
        Effect.provide(Layer.mergeAll(settingsFor(["alpha"]), Planner.layer(), Reporter.layer))
      )
      expect(first.certificates.map((c) => [c.name, c.action])).toEqual([["alpha", "renewed"]])
      expect(first.planner).toEqual(Planner.deterministicOutcome)
      expect(first.summary).toBeUndefined()
      const alphaSerial = Option.getOrThrow(yield* storage.loadCertificate(CertificateName.make("alpha"))).metadata.serialNumber

      // run 2: the openai-compatible planner, built by its plugin as the CLI would
      const planner = yield* Effect.flatMap(
        Effect.orDie(Plugin.configurable(LlmPlugins.openaiCompatiblePlanner).configure({
          model: "llama3.1",
          baseUrl: `${stub.url}/v1`
        })),
        (make) => make(Vendors.makeContext())
      )
      const second = yield* Renewal.renew().pipe(
        Effect.provide(Layer.mergeAll(
          settingsFor(["alpha", "beta", "gamma"]),
          Layer.succeed(Planner.Planner, planner),
          Reporter.layer
        ))
      )
      // exactly the due ones (beta and gamma: no certificate yet), gamma first as advised; alpha untouched
      expect(second.certificates.map((c) => [c.name, c.action])).toEqual([
        ["alpha", "skipped"],
        ["gamma", "renewed"],
        ["beta", "renewed"]
      ])
      expect(Option.getOrThrow(yield* storage.loadCertificate(CertificateName.make("alpha"))).metadata.serialNumber).toBe(alphaSerial)
      for (const name of ["beta", "gamma"].map(CertificateName.make)) {
        const stored = Option.getOrThrow(yield* storage.loadCertificate(name))
        expect((yield* pebble.certificateStatus(stored.metadata.serialNumber)).status).toBe("Valid")
      }
      expect(second.planner).toEqual({
        provider: "openai-compatible",
        model: "llama3.1",
        fallback: false,
        dropped: ["legacy-vpn", "www.example.com"],
        restored: ["beta"],
        disagreements: [{ name: "alpha", advised: "renew", kept: "skip" }]
      })
      expect(second.certificates.map((c) => c.explanation)).toEqual([
        "Renew it too, to be safe.",
        "No certificate yet.",
        undefined
      ])
      const requests = yield* stub.requests
      expect(requests).toHaveLength(1)
      const scan = JSON.parse(VendorReplies.openAiUserText(requests[0] ?? expect.fail("no request reached the stub")))
      expect(scan.certificates.map((c: { name: string; decision: string }) => [c.name, c.decision])).toEqual([
        ["alpha", "skip"],
        ["beta", "renew"],
        ["gamma", "renew"]
      ])
    }))
})
