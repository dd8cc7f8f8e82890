/**
 * Pebble (Let's Encrypt's ACME test CA) and pebble-challtestsrv (its DNS and challenge test server)
 * as a scoped Layer: both start on free loopback ports when the layer is built and are killed, with
 * their temporary directory removed, when its scope closes.
 *
 * ```ts
 * import { layer } from "@effect/vitest"
 * import { Pebble, PebbleHttpClient } from "@acme/testing"
 * import { Effect, Layer } from "effect"
 *
 * const PebbleTest = PebbleHttpClient.layer.pipe(Layer.provideMerge(Pebble.layer()))
 *
 * layer(PebbleTest, { excludeTestServices: true })("against Pebble", (it) => {
 *   it.effect("has a directory", () =>
 *     Effect.gen(function*() {
 *       const pebble = yield* Pebble.Pebble
 *       const directory = yield* pebble.directory
 *     }))
 * })
 * ```
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as binaries from "./internal/binaries.js"
import * as internal from "./internal/pebble.js"
import type { PebbleOptions, Service } from "./internal/pebble/service.js"
import type { PebbleError } from "./PebbleError.js"

export type {
  CertificateStatus,
  ChallengeServers,
  Directory,
  DirectoryMeta,
  PebbleOptions,
  Service
} from "./internal/pebble/service.js"

/**
 * @since 0.1.0
 * @category tags
 */
export class Pebble extends Context.Tag("@acme/testing/Pebble")<Pebble, Service>() {}

/**
 * Starts Pebble and challtestsrv; both are killed and the temporary directory is removed when the
 * scope closes. Needs nothing but a Scope: it brings its own file system, process and HTTP services.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options?: PebbleOptions) => Effect.Effect<Service, PebbleError, Scope.Scope> = internal.make

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: PebbleOptions): Layer.Layer<Pebble, PebbleError> =>
  Layer.scoped(Pebble, make(options))

/**
 * A Pebble that offers ARI (`renewalInfo`): `$PEBBLE_ARI_BIN`, else
 * `<workspace root>/.cache/pebble-ari/usr/bin/pebble` (fetched by `scripts/fetch-pebble-ari.sh`),
 * the workspace root being the nearest folder up from the working directory with `pnpm-workspace.yaml`.
 * None when neither is an executable file. Pass it as `pebbleBin`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const ariPebbleBinary: Effect.Effect<Option.Option<string>> = binaries.ariPebbleBinary
