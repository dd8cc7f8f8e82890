/**
 * The provider registry: how the configuration's `challenge.provider` (dns-01), `planner.provider`,
 * `reporter.provider` and `storage.type` become services. Built-in providers are listed in
 * {@link builtins}; `plugin: "<package>"` next to the name loads a third-party npm package (or a
 * module file relative to the configuration) that exports `Plugin`s: as `default`, as `plugin`, or
 * a list as `plugins`.
 *
 * Everything is checked when the configuration is loaded, before any network call: an unknown
 * provider, a package that cannot be loaded or exports no such plugin, and options that fail the
 * plugin's Schema are each one `ConfigFileError` line naming the path of the bad value.
 *
 * @since 0.1.0
 */
import { createRequire } from "node:module"
import * as NodePath from "node:path"
import { pathToFileURL } from "node:url"
import * as Dns01 from "@acme/dns/Dns01"
import { Planner, Plugin, Reporter, Storage } from "@acme/sdk"
import * as Path from "@effect/platform/Path"
import { Array as Arr, Config, Effect, Either, ParseResult, Predicate, Schema } from "effect"
import { ConfigFileError } from "./CliError.js"
import { describeIssues, formatPath } from "./ConfigIssues.js"
import type { FileConfig } from "./FileConfig.js"
import { Dns, type Listed, Llm, Storage as StorageProviders } from "./Providers.js"

/**
 * Builds the service of a resolved provider.
 *
 * @since 0.1.0
 * @category models
 */
export type Build<K extends Plugin.Kind> = (
  context: Plugin.MakeContext
) => Effect.Effect<Plugin.Services[K], Plugin.PluginError, Plugin.Requirements>

/**
 * A provider named in the configuration, found and with its options checked.
 *
 * @since 0.1.0
 * @category models
 */
export interface Resolved<K extends Plugin.Kind> {
  readonly kind: K
  readonly name: string
  /** the package it came from, for a plugin */
  readonly plugin: string | undefined
  readonly build: Build<K>
}

/**
 * Every provider the configuration names.
 *
 * @since 0.1.0
 * @category models
 */
export interface Providers {
  readonly storage: Resolved<"storage">
  readonly planner: Resolved<"planner">
  readonly reporter: Resolved<"reporter">
  /** the DNS provider of each dns-01 or dns-account-01 certificate, by certificate name */
  readonly dns: ReadonlyMap<string, DnsSetup>
}

/**
 * A dns-01 or dns-account-01 certificate's DNS provider and, when configured, how to wait for its records.
 *
 * @since 0.1.0
 * @category models
 */
export interface DnsSetup extends Resolved<"dns"> {
  readonly propagation: Dns01.Propagation | undefined
}

const fileStorage = Plugin.make({
  kind: "storage",
  name: "file",
  description: "a folder on this machine: live/<name>/ for each certificate, accounts, archive, state",
  options: Schema.Struct({ path: Schema.String.pipe(Schema.minLength(1)) }),
  make: (options, context) =>
    Effect.flatMap(Path.Path, (path) => Storage.makeFileSystem(path.resolve(context.configDirectory, options.path)))
})

/** no options at all: any key is a mistake */
const noOptions = (what: string) =>
  Schema.Record({ key: Schema.String, value: Schema.Unknown }).pipe(
    Schema.filter((options) => {
      const keys = Object.keys(options)
      return keys.length === 0 || `${what} takes no options; remove ${keys.join(", ")}`
    })
  )

const deterministicPlanner = Plugin.make({
  kind: "planner",
  name: "deterministic",
  description: "renew by the CA's ARI window, else when a third of the lifetime is left (or renewal.daysBefore)",
  options: noOptions("the deterministic planner"),
  make: (_, context) => Effect.succeed(context.deterministicPlanner)
})

const deterministicReporter = Plugin.make({
  kind: "reporter",
  name: "deterministic",
  description: "the run's summary: per certificate what happened and why",
  options: noOptions("the deterministic reporter"),
  make: (_, context) => Effect.succeed(context.deterministicReporter)
})

/**
 * A provider in a registry: ready, or listed by name with its module imported on first use.
 *
 * @since 0.1.0
 * @category models
 */
export type Entry = Plugin.Configurable | Listed

/**
 * The built-in providers (the DNS and LLM ones listed by name, see `Providers.ts`).
 *
 * @since 0.1.0
 * @category constants
 */
export const builtins: ReadonlyArray<Entry> = [
  Plugin.configurable(fileStorage),
  ...StorageProviders.plugins,
  Plugin.configurable(deterministicPlanner),
  Plugin.configurable(deterministicReporter),
  ...Dns.plugins,
  ...Llm.plugins
]

const kindLabel: { readonly [K in Plugin.Kind]: string } = {
  dns: "DNS provider",
  planner: "planner",
  reporter: "reporter",
  storage: "storage type"
}

const isKind = (value: unknown): value is Plugin.Kind =>
  value === "dns" || value === "planner" || value === "reporter" || value === "storage"

/** Whether a value exported by a module has the shape of a `Plugin`. */
const isPlugin = (value: unknown): value is Plugin.Plugin<Plugin.Kind, unknown, unknown> =>
  Predicate.isRecord(value) && isKind(value.kind) && typeof value.name === "string" &&
  Schema.isSchema(value.options) && typeof value.make === "function"

/** The plugins a module exports: `default`, `plugin`, and the entries of `plugins`. */
const exportedPlugins = (module: unknown): ReadonlyArray<Plugin.Configurable> => {
  if (!Predicate.isRecord(module)) return []
  const list = Array.isArray(module.plugins) ? module.plugins : []
  const candidates: ReadonlyArray<unknown> = [module.default, module.plugin, ...list]
  return Arr.dedupe(candidates.filter(isPlugin)).map((plugin) => Plugin.configurable(plugin))
}

/**
 * Loads the plugins of an npm package (resolved from the configuration's folder, then from the
 * working directory) or of a module file (`./x.mjs`, relative to the configuration's folder).
 *
 * @since 0.1.0
 * @category constructors
 */
export const loadPlugins = (
  file: string,
  at: string,
  directory: string,
  specifier: string
): Effect.Effect<ReadonlyArray<Plugin.Configurable>, ConfigFileError> => {
  const failed = (what: string) =>
    new ConfigFileError({ reason: "Invalid", file, message: `${file}: ${at}: ${what}` })
  const isPath = specifier.startsWith(".") || NodePath.isAbsolute(specifier)
  const resolve = Effect.try({
    try: () => {
      if (isPath) return NodePath.resolve(directory, specifier)
      const bases = Arr.dedupe([NodePath.join(directory, "acme.yaml"), NodePath.join(process.cwd(), "acme.yaml")])
      for (const base of bases) {
        try {
          return createRequire(base).resolve(specifier)
        } catch {
          // not installed there: try the next place
        }
      }
      return undefined
    },
    catch: () => undefined
  })
  return Effect.gen(function*() {
    const resolved = yield* Effect.orElseSucceed(resolve, () => undefined)
    if (resolved === undefined) {
      return yield* failed(
        `cannot find the plugin package "${specifier}" from ${directory}; install it there (npm install ${specifier}) or give the path of its module`
      )
    }
    const module = yield* Effect.tryPromise({
      try: (): Promise<unknown> => import(pathToFileURL(resolved).href),
      catch: (error) =>
        failed(
          `cannot load the plugin "${specifier}" (${resolved}): ${
            error instanceof Error ? error.message.split("\n")[0] : String(error)
          }; check that it is a plugin for acme and that its dependencies are installed`
        )
    })
    const plugins = exportedPlugins(module)
    if (plugins.length === 0) {
      return yield* failed(
        `"${specifier}" exports no plugin (a default export, \`plugin\` or \`plugins\` made with Plugin.make); check the package name`
      )
    }
    return plugins
  })
}

/** the issues of a provider's options, their paths prefixed with the section's */
const optionsError = (file: string, at: ReadonlyArray<PropertyKey>, error: ParseResult.ParseError) =>
  new ConfigFileError({
    reason: "Invalid",
    file,
    message: `${file}: ${
      describeIssues(
        ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) => ({ ...issue, path: [...at, ...issue.path] }))
      )
    }`
  })

/**
 * Finds the provider a section names and checks its options.
 *
 * @since 0.1.0
 * @category constructors
 */
export const resolveSection = <K extends Plugin.Kind>(
  input: {
    readonly file: string
    readonly directory: string
    readonly kind: K
    /** the path of the section (`planner`, `certificates[2].challenge`) */
    readonly at: ReadonlyArray<PropertyKey>
    /** the key that names the provider in this section (`provider`, or `type` for storage) */
    readonly nameKey: string
    readonly name: string
    readonly plugin: string | undefined
    /** the provider's options: the section without the keys the CLI reads itself */
    readonly options: Readonly<Record<string, unknown>>
    readonly registry: ReadonlyArray<Entry>
    readonly load: (specifier: string, at: string) => Effect.Effect<ReadonlyArray<Plugin.Configurable>, ConfigFileError>
  }
): Effect.Effect<Resolved<K>, ConfigFileError> =>
  Effect.gen(function*() {
    const { file, kind } = input
    const label = kindLabel[kind]
    const nameAt = formatPath([...input.at, input.nameKey])
    const candidates: ReadonlyArray<Entry> = input.plugin === undefined
      ? input.registry
      : yield* input.load(input.plugin, formatPath([...input.at, "plugin"]))
    const ofKind = candidates.filter((plugin) => plugin.kind === kind)
    const entry = ofKind.find((plugin) => plugin.name === input.name)
    if (entry === undefined) {
      const names = ofKind.map((plugin) => plugin.name)
      const from = input.plugin === undefined ? "" : ` in the plugin "${input.plugin}"`
      return yield* new ConfigFileError({
        reason: "Invalid",
        file,
        message: `${file}: ${nameAt}: unknown ${label} "${input.name}"${from}; ${
          names.length > 0 ? `use one of ${names.join(", ")}` : `it has no ${label}`
        }${input.plugin === undefined ? `, or name the package that provides it with \`plugin:\`` : ""}`
      })
    }
    const found = "configure" in entry ? entry : yield* entry.load
    // `found` is of kind K (filtered above); TypeScript cannot narrow Configurable<Kind> by its `kind`
    const configured = found.configure(input.options) as Either.Either<Build<K>, ParseResult.ParseError>
    if (Either.isLeft(configured)) return yield* optionsError(file, input.at, configured.left)
    return { kind, name: input.name, plugin: input.plugin, build: configured.right }
  })

const without = (section: Readonly<Record<string, unknown>>, keys: ReadonlyArray<string>) =>
  Object.fromEntries(Object.entries(section).filter(([key, value]) => !keys.includes(key) && value !== undefined))

/**
 * Resolves every provider of a decoded configuration (modules of plugins are loaded once each).
 *
 * @since 0.1.0
 * @category constructors
 */
export const resolveProviders = (
  input: {
    readonly file: string
    readonly directory: string
    readonly config: FileConfig
    readonly registry?: ReadonlyArray<Entry> | undefined
  }
): Effect.Effect<Providers, ConfigFileError> =>
  Effect.gen(function*() {
    const { config, directory, file } = input
    const registry = input.registry ?? builtins
    const loaded = new Map<string, ReadonlyArray<Plugin.Configurable>>()
    const load = (specifier: string, at: string) =>
      Effect.suspend(() => {
        const cached = loaded.get(specifier)
        return cached !== undefined
          ? Effect.succeed(cached)
          : Effect.tap(loadPlugins(file, at, directory, specifier), (plugins) => Effect.sync(() => loaded.set(specifier, plugins)))
      })
    const common = { file, directory, registry, load }
    const storage = yield* resolveSection({
      ...common,
      kind: "storage",
      at: ["storage"],
      nameKey: "type",
      name: config.storage.type,
      plugin: config.storage.plugin,
      options: without(config.storage, ["type", "plugin"])
    })
    const advisor = <K extends "planner" | "reporter">(kind: K) =>
      resolveSection({
        ...common,
        kind,
        at: [kind],
        nameKey: "provider",
        name: config[kind].provider,
        plugin: config[kind].plugin,
        options: without(config[kind], ["provider", "plugin"])
      })
    const planner = yield* advisor("planner")
    const reporter = yield* advisor("reporter")
    const dns = new Map<string, DnsSetup>()
    for (const [index, certificate] of config.certificates.entries()) {
      const challenge = certificate.challenge
      if (challenge.type !== "dns-01" && challenge.type !== "dns-account-01") continue
      const at = ["certificates", index, "challenge"]
      const resolved = yield* resolveSection({
        ...common,
        kind: "dns",
        at,
        nameKey: "provider",
        name: challenge.provider,
        plugin: challenge.plugin,
        options: without(challenge, ["type", "provider", "plugin", "propagation", "draft"])
      })
      const propagation = challenge.propagation === undefined ? Either.right(undefined) : Schema.decodeUnknownEither(
        Dns01.Propagation,
        { errors: "all", onExcessProperty: "error" }
      )(challenge.propagation)
      if (Either.isLeft(propagation)) {
        return yield* optionsError(file, [...at, "propagation"], propagation.left)
      }
      dns.set(certificate.name, { ...resolved, propagation: propagation.right })
    }
    return { storage, planner, reporter, dns }
  })

/**
 * What `make` gets besides its options.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeContext = (input: { readonly configDirectory: string }): Plugin.MakeContext => ({
  configDirectory: input.configDirectory,
  deterministicPlanner: Planner.make(),
  deterministicReporter: Reporter.make,
  env: (name) =>
    Config.nonEmptyString(name).pipe(
      Effect.mapError(() =>
        new Plugin.PluginError({
          plugin: "environment",
          description: `${name} is not set (or is empty); set it in the environment acme runs in (e.g. the systemd unit's EnvironmentFile=)`
        })
      )
    )
})
