/**
 * Plugins: how a provider (a DNS provider for dns-01, a planner, a reporter, a storage) is named in
 * the configuration and built from it. The CLI keeps a registry of the built-in ones; a third-party
 * npm package adds its own by exporting a `Plugin` (as `default` or as `plugin`, or an array of them
 * as `plugins`), and the configuration names it with `plugin: "<package>"`.
 *
 * A plugin's `options` Schema checks the configuration's keys for it (all the keys of the section
 * except the ones the CLI reads itself: `provider`/`type`, `plugin`, and for dns-01 `type` and
 * `propagation`), and `make` builds the service from the decoded options.
 *
 * ```ts
 * import { DnsProvider, Plugin } from "@acme/sdk"
 * import { Effect, Schema } from "effect"
 *
 * export default Plugin.make({
 *   kind: "dns",
 *   name: "example-dns",
 *   options: Schema.Struct({ token: Schema.String }),
 *   make: (options) => Effect.succeed({ name: "example-dns", present: ..., cleanup: ... })
 * })
 * ```
 *
 * @since 0.1.0
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Path from "@effect/platform/Path"
import type * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type * as DnsProvider from "./DnsProvider.js"
import type * as Planner from "./Planner.js"
import type * as Reporter from "./Reporter.js"
import type * as Storage from "./Storage.js"

/**
 * What each kind of plugin builds.
 *
 * @since 0.1.0
 * @category models
 */
export interface Services {
  readonly dns: DnsProvider.Service
  readonly planner: Planner.Service
  readonly reporter: Reporter.Service
  readonly storage: Storage.Service
}

/**
 * @since 0.1.0
 * @category models
 */
export type Kind = keyof Services

/**
 * What `make` may use: an HTTP client (trusting the configured roots), the file system, and a scope
 * that closes when the run ends (for connections, servers, temporary files).
 *
 * @since 0.1.0
 * @category models
 */
export type Requirements = HttpClient.HttpClient | FileSystem.FileSystem | Path.Path | Scope.Scope

/**
 * What the CLI hands to `make` besides the options.
 *
 * @since 0.1.0
 * @category models
 */
export interface MakeContext {
  /** the absolute folder of the configuration file: relative paths in options are relative to it */
  readonly configDirectory: string
  /** the deterministic planner with the configured settings (what an advisory planner falls back to) */
  readonly deterministicPlanner: Planner.Service
  /** the deterministic reporter (what a prose reporter adds to) */
  readonly deterministicReporter: Reporter.Service
  /** reads a secret from the environment (`apiKeyEnv`, credentials): fails with a PluginError naming it */
  readonly env: (name: string) => Effect.Effect<string, PluginError>
}

/**
 * A plugin could not be built from its options (a missing credential, an unreachable endpoint it
 * checks at start). The message is one line that says what to fix.
 *
 * @since 0.1.0
 * @category errors
 */
export class PluginError extends Schema.TaggedError<PluginError>("@acme/sdk/PluginError")("PluginError", {
  plugin: Schema.String,
  description: Schema.String
}) {
  override get message(): string {
    return `${this.plugin}: ${this.description}`
  }
}

/**
 * A provider of one kind, under one name.
 *
 * @since 0.1.0
 * @category models
 */
export interface Plugin<K extends Kind = Kind, A = unknown, I = unknown> {
  readonly kind: K
  /** the name the configuration uses (`provider: <name>`, or `type: <name>` for storage) */
  readonly name: string
  /** one line for `acme --help`-style listings and errors */
  readonly description?: string | undefined
  /** checks the configuration keys of this provider */
  readonly options: Schema.Schema<A, I>
  readonly make: (options: A, context: MakeContext) => Effect.Effect<Services[K], PluginError, Requirements>
}

/**
 * A plugin with its options type erased, for registries: `configure` checks raw configuration with
 * the plugin's Schema (unknown keys are errors) and gives back what builds the service.
 *
 * @since 0.1.0
 * @category models
 */
export interface Configurable<K extends Kind = Kind> {
  readonly kind: K
  readonly name: string
  readonly description?: string | undefined
  readonly configure: (
    raw: unknown
  ) => Either.Either<
    (context: MakeContext) => Effect.Effect<Services[K], PluginError, Requirements>,
    ParseResult.ParseError
  >
}

/**
 * Erases a plugin's options type (see {@link Configurable}).
 *
 * @since 0.1.0
 * @category constructors
 */
export const configurable = <K extends Kind, A, I>(plugin: Plugin<K, A, I>): Configurable<K> => ({
  kind: plugin.kind,
  name: plugin.name,
  description: plugin.description,
  configure: (raw) =>
    Either.map(
      Schema.decodeUnknownEither(plugin.options, { errors: "all", onExcessProperty: "error" })(raw),
      (options) => (context: MakeContext) => plugin.make(options, context)
    )
})

/**
 * Declares a plugin (an identity function that checks the shape).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <K extends Kind, A, I>(plugin: Plugin<K, A, I>): Plugin<K, A, I> => plugin
