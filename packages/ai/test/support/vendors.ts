/**
 * The three providers as the tests drive them: how to configure the plugin against a local server,
 * and how that vendor's wire format carries a structured answer, a text, a rate limit.
 */
import { LlmPlugins } from "@acme/ai"
import { Planner, Plugin, Reporter } from "@acme/sdk"
import { Effect } from "effect"
import type { HttpStub } from "@acme/testing"
import * as VendorReplies from "./vendorReplies.js"

export const API_KEY = "sk-test-Zq8vR3nX0pL5sK9wT2yB7cF4hJ6mD1aE"

export interface Vendor {
  readonly provider: "anthropic" | "openai" | "openai-compatible"
  readonly model: string
  readonly path: string
  readonly options: (serverUrl: string) => Record<string, unknown>
  readonly planner: Plugin.Configurable<"planner">
  readonly reporter: Plugin.Configurable<"reporter">
  /** the structured answer `generateObject` decodes, in this vendor's wire format */
  readonly object: (request: HttpStub.Request, value: unknown) => HttpStub.Reply
  /** a plain text answer */
  readonly text: (request: HttpStub.Request, text: string) => HttpStub.Reply
  readonly rateLimited: HttpStub.Reply
  readonly userText: (request: HttpStub.Request) => string
  /** where the API key travels */
  readonly keyHeader: string
}

export const anthropic: Vendor = {
  provider: "anthropic",
  model: "claude-haiku-4-5",
  // the beta Messages endpoint, as @effect/ai-anthropic (and Anthropic's own SDK for beta features) calls it
  path: "/v1/messages?beta=true",
  options: (url) => ({ model: "claude-haiku-4-5", baseUrl: url, apiKeyEnv: "TEST_ANTHROPIC_KEY" }),
  planner: Plugin.configurable(LlmPlugins.anthropicPlanner),
  reporter: Plugin.configurable(LlmPlugins.anthropicReporter),
  object: VendorReplies.anthropicToolUse,
  text: VendorReplies.anthropicText,
  rateLimited: VendorReplies.anthropicRateLimited,
  userText: VendorReplies.anthropicUserText,
  keyHeader: "x-api-key"
}

export const openai: Vendor = {
  provider: "openai",
  model: "gpt-4.1-mini",
  path: "/v1/responses",
  options: (url) => ({ model: "gpt-4.1-mini", baseUrl: `${url}/v1`, apiKeyEnv: "TEST_OPENAI_KEY" }),
  planner: Plugin.configurable(LlmPlugins.openaiPlanner),
  reporter: Plugin.configurable(LlmPlugins.openaiReporter),
  object: (request, value) => VendorReplies.openAiResponse(request, JSON.stringify(value)),
  text: VendorReplies.openAiResponse,
  rateLimited: VendorReplies.openAiRateLimited,
  userText: VendorReplies.openAiUserText,
  keyHeader: "authorization"
}

export const openaiCompatible: Vendor = {
  ...openai,
  provider: "openai-compatible",
  model: "llama3.1",
  options: (url) => ({ model: "llama3.1", baseUrl: `${url}/v1` }),
  planner: Plugin.configurable(LlmPlugins.openaiCompatiblePlanner),
  reporter: Plugin.configurable(LlmPlugins.openaiCompatibleReporter)
}

export const all: ReadonlyArray<Vendor> = [anthropic, openai, openaiCompatible]

export const environment: Record<string, string> = { TEST_ANTHROPIC_KEY: API_KEY, TEST_OPENAI_KEY: API_KEY }

/** What the CLI would hand to `make`: the deterministic planner and reporter, and the environment. */
export const makeContext = (env: Record<string, string> = environment): Plugin.MakeContext => ({
  configDirectory: "/etc/acme",
  deterministicPlanner: Planner.make(),
  deterministicReporter: { summarize: (state) => Effect.succeed(Reporter.fromState(state)) },
  env: (name) =>
    env[name] !== undefined
      ? Effect.succeed(env[name])
      : Effect.fail(
        new Plugin.PluginError({ plugin: "test", description: `environment variable ${name} is not set` })
      )
})

/** Decodes the raw options with the plugin's Schema (as the CLI does) and builds the service. */
export const build = <K extends "planner" | "reporter">(
  plugin: Plugin.Configurable<K>,
  raw: unknown,
  context: Plugin.MakeContext = makeContext()
) => Effect.flatMap(Effect.orDie(plugin.configure(raw)), (make) => make(context))
