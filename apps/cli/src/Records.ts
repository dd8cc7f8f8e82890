/**
 * The records of `acme serve` (API keys, tasks, the audit log) in the configured storage, for the
 * commands that manage them (`acme apikey`, `acme audit`).
 *
 * @since 0.1.0
 */
import { type Plugin, type ServiceRecords, Storage } from "@acme/sdk"
import type { FileSystem, Path } from "@effect/platform"
import { Context, Effect, Layer, type Option, type Scope } from "effect"
import { type ConfigFileError, UsageError } from "./CliError.js"
import * as ConfigFile from "./ConfigFile.js"
import * as Layers from "./Layers.js"

/**
 * The records of the storage the configuration names (`--config`); the storage stays open until
 * the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const open = (
  config: Option.Option<string>
): Effect.Effect<
  ServiceRecords.Store,
  ConfigFileError | Plugin.PluginError | UsageError,
  Scope.Scope | FileSystem.FileSystem | Path.Path
> =>
  Effect.gen(function*() {
    const loaded = yield* ConfigFile.load(config)
    const context = yield* Layer.build(Layers.providers(loaded).pipe(Layer.provide(Layers.httpClient(loaded))))
    const storage = Context.get(context, Storage.Storage)
    if (storage.records === undefined) {
      return yield* new UsageError({
        message: `the storage at ${storage.location} does not keep API keys, tasks or an audit log`,
        hint: "acme serve and its records need a storage that keeps them: storage type file or postgres"
      })
    }
    return storage.records
  })
