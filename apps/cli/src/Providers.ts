/**
 * The provider packages whose plugins are built in: the DNS providers of `@acme/dns`, the LLM
 * planner and reporter of `@acme/ai`, and the Postgres storage of `@acme/storage-postgres`.
 *
 * Only their names are listed here; a provider's module (and what it imports: the LLM vendors'
 * clients are large) is imported when a configuration names it. Every command starts without
 * them, and a configuration with neither dns-01, nor an LLM, nor Postgres never loads them. The test
 * `plugins.test.ts` checks that these lists name exactly the plugins the packages export.
 *
 * @since 0.1.0
 */
import type { Plugin } from "@acme/sdk"
import { Effect } from "effect"

/**
 * A built-in provider known by its kind and name, whose module is imported on first use.
 *
 * @since 0.1.0
 * @category models
 */
export interface Listed<K extends Plugin.Kind = Plugin.Kind> {
  readonly kind: K
  readonly name: string
  /** imports its module; a name missing from it is a defect of this list */
  readonly load: Effect.Effect<Plugin.Configurable>
}

const listed = <K extends Plugin.Kind>(
  kind: K,
  names: ReadonlyArray<string>,
  module: () => Promise<ReadonlyArray<Plugin.Configurable>>
): ReadonlyArray<Listed<K>> =>
  names.map((name) => ({
    kind,
    name,
    load: Effect.promise(module).pipe(
      Effect.flatMap((plugins) => {
        const found = plugins.find((plugin) => plugin.kind === kind && plugin.name === name)
        return found !== undefined
          ? Effect.succeed(found)
          : Effect.dieMessage(`the built-in ${kind} provider "${name}" is not in its package`)
      })
    )
  }))

const dnsModule = () => import("@acme/dns/Plugins").then((module) => module.plugins)

const llmModule = () =>
  Promise.all([import("@acme/sdk/Plugin"), import("@acme/ai/LlmPlugins")]).then(([Plugin, module]) => [
    Plugin.configurable(module.anthropicPlanner),
    Plugin.configurable(module.openaiPlanner),
    Plugin.configurable(module.openaiCompatiblePlanner),
    Plugin.configurable(module.anthropicReporter),
    Plugin.configurable(module.openaiReporter),
    Plugin.configurable(module.openaiCompatibleReporter)
  ])

const storageModule = () =>
  Promise.all([import("@acme/sdk/Plugin"), import("@acme/storage-postgres/PostgresStorage")]).then((
    [Plugin, module]
  ) => [Plugin.configurable(module.plugin)])

/**
 * @since 0.1.0
 * @category plugins
 */
export const Storage: { readonly plugins: ReadonlyArray<Listed> } = {
  plugins: listed("storage", ["postgres"], storageModule)
}

/**
 * @since 0.1.0
 * @category plugins
 */
export const Dns: { readonly plugins: ReadonlyArray<Listed> } = {
  plugins: listed("dns", ["rfc2136", "cloudflare", "route53", "acme-dns", "challtestsrv"], dnsModule)
}

/**
 * @since 0.1.0
 * @category plugins
 */
export const Llm: { readonly plugins: ReadonlyArray<Listed> } = {
  plugins: [
    ...listed("planner", ["anthropic", "openai", "openai-compatible"], llmModule),
    ...listed("reporter", ["anthropic", "openai", "openai-compatible"], llmModule)
  ]
}
