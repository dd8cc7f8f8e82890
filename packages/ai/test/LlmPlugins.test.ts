/**
 * The plugins' options: checked with one-line messages, API keys from the environment (a missing one
 * stops the command before anything runs; a key pasted where its variable's name belongs is not
 * repeated in the message).
 */
import { LlmPlugins, plugins } from "@acme/ai"
import { Plugin } from "@acme/sdk"
import { FetchHttpClient } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Either, Layer, ParseResult, Schema } from "effect"
import * as Vendors from "./support/vendors.js"

const problems = (plugin: Plugin.Configurable, raw: unknown): string =>
  Either.match(plugin.configure(raw), {
    onLeft: (error) => ParseResult.ArrayFormatter.formatErrorSync(error).map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
    onRight: () => "ok"
  })

describe("LlmPlugins", () => {
  it("exports a planner and a reporter for each provider", () => {
    expect(plugins.map((p) => `${p.kind}:${p.name}`)).toEqual([
      "planner:anthropic",
      "planner:openai",
      "planner:openai-compatible",
      "reporter:anthropic",
      "reporter:openai",
      "reporter:openai-compatible"
    ])
  })

  it("decodes the options, with the timeout as people write it", () => {
    expect(Schema.decodeUnknownSync(LlmPlugins.CompatibleOptions)({
      model: " llama3.1 ",
      baseUrl: "http://localhost:11434/v1",
      timeout: "45 seconds"
    })).toEqual({ model: "llama3.1", baseUrl: "http://localhost:11434/v1", timeout: Duration.seconds(45) })
  })

  it.each([
    ["an empty model", { model: " " }, "model: the model's name is empty; write e.g. model: claude-haiku-4-5"],
    ["a base URL that is not http(s)", { model: "m", baseUrl: "localhost:11434" }, "baseUrl: \"localhost:11434\" is not an http(s) URL; write e.g. baseUrl: http://localhost:11434/v1"],
    ["an unknown key", { model: "m", apikey: "x" }, "apikey: is unexpected"],
    ["a bad timeout", { model: "m", timeout: "soon" }, "timeout: \"soon\" is not a duration; write e.g. \"90 seconds\", \"10 minutes\", \"1 hour\""]
  ])("rejects %s with one line", (_, raw, expected) => {
    expect(problems(Plugin.configurable(LlmPlugins.openaiPlanner), raw)).toContain(expected)
  })

  it("a key pasted as apiKeyEnv is rejected without being repeated", () => {
    const message = problems(Plugin.configurable(LlmPlugins.anthropicPlanner), { model: "m", apiKeyEnv: Vendors.API_KEY })
    expect(message).toBe(
      "apiKeyEnv: is not an environment variable name (letters, digits and _); write the variable's name (e.g. OPENAI_API_KEY), not the key itself"
    )
    expect(message).not.toContain(Vendors.API_KEY)
  })

  it("openai-compatible needs a baseUrl", () => {
    expect(problems(Plugin.configurable(LlmPlugins.openaiCompatiblePlanner), { model: "llama3.1" })).toBe(
      "baseUrl: is missing"
    )
  })

  it.scoped("anthropic and openai read their key from the default variable; a missing one is a PluginError naming it", () =>
    Effect.gen(function*() {
      const context = Vendors.makeContext({})
      const anthropic = yield* Effect.flip(Vendors.build(Plugin.configurable(LlmPlugins.anthropicPlanner), { model: "m" }, context))
      expect(anthropic.message).toBe("test: environment variable ANTHROPIC_API_KEY is not set")
      const openai = yield* Effect.flip(Vendors.build(Plugin.configurable(LlmPlugins.openaiReporter), { model: "m" }, context))
      expect(openai.message).toBe("test: environment variable OPENAI_API_KEY is not set")
      // openai-compatible needs none
      const compatible = yield* Vendors.build(
        Plugin.configurable(LlmPlugins.openaiCompatiblePlanner),
        { model: "m", baseUrl: "http://127.0.0.1:9/v1" },
        context
      )
      expect(typeof compatible.plan).toBe("function")
    }).pipe(Effect.provide(Layer.merge(FetchHttpClient.layer, NodeContext.layer))))
})
