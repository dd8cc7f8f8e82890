/**
 * The LLM planner and reporter as plugins: `provider: anthropic | openai | openai-compatible` in the
 * `planner:` and `reporter:` sections of the configuration.
 *
 * ```yaml
 * planner:  { provider: openai-compatible, model: llama3.1, baseUrl: http://localhost:11434/v1 }
 * reporter: { provider: anthropic, model: claude-haiku-4-5, apiKeyEnv: ANTHROPIC_API_KEY, timeout: 20 seconds }
 * ```
 *
 * | provider | client | endpoint | API key |
 * | --- | --- | --- | --- |
 * | `anthropic` | `@effect/ai-anthropic` | `<baseUrl>/v1/messages` (default base `https://api.anthropic.com`) | `$ANTHROPIC_API_KEY` (or `apiKeyEnv`), required |
 * | `openai` | `@effect/ai-openai` | `<baseUrl>/responses` (default base `https://api.openai.com/v1`) | `$OPENAI_API_KEY` (or `apiKeyEnv`), required |
 * | `openai-compatible` | `@effect/ai-openai` | `<baseUrl>/responses` (Responses API), `baseUrl` required | only when `apiKeyEnv` is given |
 *
 * The key is read when the plugin is built (a missing one stops the command before anything runs)
 * and kept `Redacted`: the clients send it as a redacted header, and it never appears in a log line,
 * error or report.
 *
 * @since 0.1.0
 */
import * as Plugin from "@acme/sdk/Plugin"
import { DurationText } from "@acme/sdk/RenewalConfig"
import * as AnthropicClient from "@effect/ai-anthropic/AnthropicClient"
import * as AnthropicLanguageModel from "@effect/ai-anthropic/AnthropicLanguageModel"
import * as OpenAiClient from "@effect/ai-openai/OpenAiClient"
import * as OpenAiLanguageModel from "@effect/ai-openai/OpenAiLanguageModel"
import type * as LanguageModel from "@effect/ai/LanguageModel"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as LlmPlanner from "./LlmPlanner.js"
import * as LlmReporter from "./LlmReporter.js"

/**
 * @since 0.1.0
 * @category models
 */
export type Provider = "anthropic" | "openai" | "openai-compatible"

const Model = Schema.Trim.pipe(
  Schema.nonEmptyString({ message: () => "the model's name is empty; write e.g. model: claude-haiku-4-5" })
)

/**
 * An `http://` or `https://` URL.
 *
 * @since 0.1.0
 * @category schemas
 */
export const BaseUrl = Schema.String.pipe(
  Schema.filter((text) => /^https?:\/\/[^\s/]+/.test(text) && URL.canParse(text), {
    message: (issue) =>
      `${JSON.stringify(issue.actual)} is not an http(s) URL; write e.g. baseUrl: http://localhost:11434/v1`
  })
)

/**
 * The name of an environment variable.
 *
 * @since 0.1.0
 * @category schemas
 */
export const EnvName = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z_][A-Za-z0-9_]*$/, {
    // the value is not repeated: it may be the key itself, pasted in by mistake
    message: () =>
      "is not an environment variable name (letters, digits and _); write the variable's name (e.g. OPENAI_API_KEY), not the key itself"
  })
)

/**
 * Options of the `anthropic` and `openai` providers.
 *
 * @since 0.1.0
 * @category schemas
 */
export const VendorOptions = Schema.Struct({
  model: Model,
  /** another endpoint for the vendor's API (a proxy, a gateway) */
  baseUrl: Schema.optionalWith(BaseUrl, { exact: true }),
  /** the variable holding the API key; default ANTHROPIC_API_KEY or OPENAI_API_KEY */
  apiKeyEnv: Schema.optionalWith(EnvName, { exact: true }),
  /** how long to wait for an answer; default 30 seconds */
  timeout: Schema.optionalWith(DurationText, { exact: true })
})

/**
 * @since 0.1.0
 * @category models
 */
export type VendorOptions = typeof VendorOptions.Type

/**
 * Options of the `openai-compatible` provider (Ollama, vLLM, LM Studio, ...): `baseUrl` is required,
 * an API key only when `apiKeyEnv` names one.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CompatibleOptions = Schema.Struct({
  model: Model,
  baseUrl: BaseUrl,
  apiKeyEnv: Schema.optionalWith(EnvName, { exact: true }),
  timeout: Schema.optionalWith(DurationText, { exact: true })
})

/**
 * @since 0.1.0
 * @category models
 */
export type CompatibleOptions = typeof CompatibleOptions.Type

/**
 * Where a provider reads its API key by default.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultApiKeyEnv: { readonly [P in Provider]: string | undefined } = {
  anthropic: "ANTHROPIC_API_KEY",
  openai: "OPENAI_API_KEY",
  "openai-compatible": undefined
}

/**
 * The `LanguageModel` of a provider, with its client.
 *
 * @since 0.1.0
 * @category constructors
 */
export const languageModel = (
  provider: Provider,
  options: {
    readonly model: string
    readonly baseUrl?: string | undefined
    readonly apiKeyEnv?: string | undefined
  },
  context: Pick<Plugin.MakeContext, "env">
): Effect.Effect<LanguageModel.Service, Plugin.PluginError, HttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function*() {
    const keyEnv = options.apiKeyEnv ?? defaultApiKeyEnv[provider]
    const apiKey = keyEnv === undefined ? undefined : Redacted.make(yield* context.env(keyEnv))
    if (provider === "anthropic") {
      const client = yield* AnthropicClient.make({ apiKey, apiUrl: options.baseUrl })
      return yield* AnthropicLanguageModel.make({ model: options.model }).pipe(
        Effect.provideService(AnthropicClient.AnthropicClient, client)
      )
    }
    const client = yield* OpenAiClient.make({ apiKey, apiUrl: options.baseUrl })
    return yield* OpenAiLanguageModel.make({ model: options.model }).pipe(
      Effect.provideService(OpenAiClient.OpenAiClient, client)
    )
  })

const describePlanner = (provider: string) =>
  `orders the renewals and explains them with ${provider}; the deterministic plan decides`
const describeReporter = (provider: string) =>
  `adds a prose summary by ${provider} to the deterministic report`

const planner = <A extends VendorOptions, I>(provider: Provider, options: Schema.Schema<A, I>) =>
  Plugin.make({
    kind: "planner",
    name: provider,
    description: describePlanner(provider),
    options,
    make: (decoded, context) =>
      Effect.map(languageModel(provider, decoded, context), (model) =>
        LlmPlanner.fromLanguageModel(model, {
          provider,
          model: decoded.model,
          deterministic: context.deterministicPlanner,
          timeout: decoded.timeout
        }))
  })

const reporter = <A extends VendorOptions, I>(provider: Provider, options: Schema.Schema<A, I>) =>
  Plugin.make({
    kind: "reporter",
    name: provider,
    description: describeReporter(provider),
    options,
    make: (decoded, context) =>
      Effect.map(languageModel(provider, decoded, context), (model) =>
        LlmReporter.fromLanguageModel(model, {
          provider,
          model: decoded.model,
          deterministic: context.deterministicReporter,
          timeout: decoded.timeout
        }))
  })

/**
 * @since 0.1.0
 * @category plugins
 */
export const anthropicPlanner = planner("anthropic", VendorOptions)

/**
 * @since 0.1.0
 * @category plugins
 */
export const openaiPlanner = planner("openai", VendorOptions)

/**
 * @since 0.1.0
 * @category plugins
 */
export const openaiCompatiblePlanner = planner("openai-compatible", CompatibleOptions)

/**
 * @since 0.1.0
 * @category plugins
 */
export const anthropicReporter = reporter("anthropic", VendorOptions)

/**
 * @since 0.1.0
 * @category plugins
 */
export const openaiReporter = reporter("openai", VendorOptions)

/**
 * @since 0.1.0
 * @category plugins
 */
export const openaiCompatibleReporter = reporter("openai-compatible", CompatibleOptions)

/**
 * Every plugin of this package, for the CLI's registry.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugins = [
  anthropicPlanner,
  openaiPlanner,
  openaiCompatiblePlanner,
  anthropicReporter,
  openaiReporter,
  openaiCompatibleReporter
] as const
