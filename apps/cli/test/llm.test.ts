/**
 * `acme renew` with `planner: { provider: openai-compatible, ... }` pointed at a local server that
 * speaks OpenAI's Responses API and answers like a bad model: it invents certificates, wants to renew
 * one that is not due, and leaves out one that is. The run renews exactly the due certificates and
 * reports what the guards dropped and restored; `acme status` never asks the model.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { HttpStub, Pebble } from "@acme/testing"
import { expect, layer } from "@effect/vitest"
import { Effect, Schema } from "effect"
import * as VendorReplies from "../../../packages/ai/test/support/vendorReplies.js"
import { acme, temporaryFolder } from "./support/cli.js"

const Report = Schema.parseJson(Schema.Struct({
  certificates: Schema.Array(Schema.Struct({ name: Schema.String, action: Schema.String })),
  planner: Schema.Struct({
    provider: Schema.String,
    model: Schema.optional(Schema.String),
    fallback: Schema.Boolean,
    dropped: Schema.Array(Schema.String),
    restored: Schema.Array(Schema.String),
    disagreements: Schema.Array(Schema.Struct({ name: Schema.String, advised: Schema.String, kept: Schema.String }))
  })
}))

layer(Pebble.layer(), { excludeTestServices: true })("an LLM planner in the configuration file", (it) => {
  it.scoped("renews exactly the due certificates, whatever the model says, and reports dropped and restored", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const model = yield* HttpStub.make((request) =>
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
      const folder = yield* Effect.acquireRelease(Effect.sync(() => temporaryFolder("acme-llm-")), (f) => Effect.sync(f.remove))
      const write = (names: ReadonlyArray<string>, planner: Record<string, unknown> | undefined) =>
        fs.writeFileSync(
          path.join(folder.path, "acme.yaml"),
          JSON.stringify({
            ca: { directory: pebble.directoryUrl, trust: [pebble.caBundle] },
            storage: { path: "./storage" },
            ...(planner === undefined ? {} : { planner }),
            certificates: names.map((name) => ({
              name,
              domains: [`${name}.llm.example.test`],
              challenge: { type: "dns-01", provider: "challtestsrv", url: pebble.challtestsrvUrl }
            }))
          })
        )
      const run = (args: ReadonlyArray<string>) => Effect.promise(() => acme(args, { cwd: folder.path }))

      // run 1, no LLM: alpha is issued
      write(["alpha"], undefined)
      const first = yield* run(["renew", "--json"])
      expect(first.code).toBe(0)
      expect(Schema.decodeUnknownSync(Report)(first.stdout).planner.provider).toBe("deterministic")
      const alpha = fs.readFileSync(path.join(folder.path, "storage", "live", "alpha", "cert.pem"), "utf8")

      // run 2: the model invents two, wants alpha (not due) renewed, forgets beta (due)
      write(["alpha", "beta", "gamma"], { provider: "openai-compatible", model: "llama3.1", baseUrl: `${model.url}/v1` })
      const second = yield* run(["renew", "--json"])
      expect(second.code).toBe(0)
      const report = Schema.decodeUnknownSync(Report)(second.stdout)
      expect(report.certificates.map((c) => [c.name, c.action])).toEqual([
        ["alpha", "skipped"],
        ["gamma", "renewed"],
        ["beta", "renewed"]
      ])
      expect(report.planner).toEqual({
        provider: "openai-compatible",
        model: "llama3.1",
        fallback: false,
        dropped: ["legacy-vpn", "www.example.com"],
        restored: ["beta"],
        disagreements: [{ name: "alpha", advised: "renew", kept: "skip" }]
      })
      expect(fs.readFileSync(path.join(folder.path, "storage", "live", "alpha", "cert.pem"), "utf8")).toBe(alpha)
      for (const name of ["beta", "gamma"]) {
        expect(fs.existsSync(path.join(folder.path, "storage", "live", name, "cert.pem"))).toBe(true)
      }
      expect((yield* model.requests).length).toBe(1)

      // the summary for people names the planner and what its guards did
      const text = yield* run(["renew"])
      expect(text.code).toBe(0)
      expect(text.stdout).toMatch(/planner.*openai-compatible/)

      // acme status plans with the deterministic planner: the model is not asked
      const before = (yield* model.requests).length
      const status = yield* run(["status", "--json"])
      expect(status.code).toBe(0)
      expect((yield* model.requests).length).toBe(before)
    }))
})
