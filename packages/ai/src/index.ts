/**
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as LlmPlanner from "./LlmPlanner.js"

/** @since 0.1.0 */
export * as LlmPlugins from "./LlmPlugins.js"

/** @since 0.1.0 */
export * as LlmReporter from "./LlmReporter.js"

/** @since 0.1.0 */
export * as ModelInput from "./ModelInput.js"

/**
 * Every plugin of this package (planner and reporter for `anthropic`, `openai`, `openai-compatible`).
 *
 * @since 0.1.0
 */
export { plugins } from "./LlmPlugins.js"
