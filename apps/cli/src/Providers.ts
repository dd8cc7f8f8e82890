/**
 * The provider packages whose plugins are built in: the DNS providers of `@acme/dns` and the LLM
 * planner and reporter.
 *
 * @since 0.1.0
 */
import { LlmPlugins } from "@acme/ai"
import { Plugins as DnsPlugins } from "@acme/dns"
import { Plugin } from "@acme/sdk"

/**
 * @since 0.1.0
 * @category plugins
 */
export const Dns: { readonly plugins: ReadonlyArray<Plugin.Configurable> } = { plugins: DnsPlugins.plugins }

/**
 * @since 0.1.0
 * @category plugins
 */
export const Llm: { readonly plugins: ReadonlyArray<Plugin.Configurable> } = {
  plugins: [
    Plugin.configurable(LlmPlugins.anthropicPlanner),
    Plugin.configurable(LlmPlugins.openaiPlanner),
    Plugin.configurable(LlmPlugins.openaiCompatiblePlanner),
    Plugin.configurable(LlmPlugins.anthropicReporter),
    Plugin.configurable(LlmPlugins.openaiReporter),
    Plugin.configurable(LlmPlugins.openaiCompatibleReporter)
  ]
}
