/**
 * What the server runs the SDK's programs in, and how it is replaced on SIGHUP.
 *
 * An embedder (the CLI's `acme serve`) hands the server a `load` effect that reads the
 * configuration and returns the `server` settings and the Layer of everything `Renewal.renew`,
 * `Revocation.revoke` and `Status.status` need. The server builds that Layer once per load and keeps
 * it (`Current`); a reload builds the new one first and only then swaps it in, so a bad file leaves
 * the old one running. The old one is closed once nothing uses it any more.
 *
 * @since 0.1.0
 */
import { RenewalSettings, Storage } from "@acme/sdk"
import type { Renewal, ServiceRecords } from "@acme/sdk"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as SubscriptionRef from "effect/SubscriptionRef"
import type { ServerConfig } from "./ServerConfig.js"

/**
 * A configuration as the server needs it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Environment {
  readonly server: ServerConfig
  /** everything the SDK's programs need, built by the server */
  readonly layer: Layer.Layer<Renewal.Requirements, LoadError>
}

/**
 * Why a configuration could not be loaded: one line.
 *
 * @since 0.1.0
 * @category models
 */
export interface LoadError {
  readonly message: string
}

/**
 * A loaded configuration, built.
 *
 * @since 0.1.0
 * @category models
 */
export interface Active {
  readonly server: ServerConfig
  readonly settings: RenewalSettings.Settings
  readonly context: Context.Context<Renewal.Requirements>
  readonly records: ServiceRecords.Store
  /** 1 for the first load, then one more for each reload */
  readonly generation: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** the configuration in use now */
  readonly get: Effect.Effect<Active>
  /** runs `f` with the configuration in use now, which stays open until `f` is done */
  readonly use: <A, E, R>(f: (active: Active) => Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** loads the configuration again; on failure the one in use stays, and the error says why */
  readonly reload: Effect.Effect<Either.Either<Active, LoadError>>
  /** the configuration in use now, and every one after it */
  readonly changes: SubscriptionRef.SubscriptionRef<Active>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Current extends Context.Tag("@acme/server/Current")<Current, Service>() {}

/** permits of one built environment: each user takes one, closing it takes them all */
const maxUsers = 1_000_000

interface Built {
  readonly active: Active
  readonly scope: Scope.CloseableScope
  readonly users: Effect.Semaphore
}

const build = (environment: Environment, generation: number): Effect.Effect<Built, LoadError> =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(environment.layer, scope).pipe(
      Effect.onError((cause) => Scope.close(scope, Exit.failCause(cause)))
    )
    const storage = Context.get(context, Storage.Storage)
    const records = storage.records
    if (records === undefined) {
      yield* Scope.close(scope, Exit.void)
      return yield* Effect.fail<LoadError>({
        message:
          `the storage at ${storage.location} does not keep the server's records (tasks, API keys, audit log); use storage type "file" or "postgres", or a plugin storage that offers records`
      })
    }
    return {
      active: {
        server: environment.server,
        settings: Context.get(context, RenewalSettings.RenewalSettings),
        context,
        records,
        generation
      },
      scope,
      users: yield* Effect.makeSemaphore(maxUsers)
    }
  })

const close = (built: Built): Effect.Effect<void> => built.users.withPermits(maxUsers)(Scope.close(built.scope, Exit.void))

/**
 * Loads and builds the first configuration (failing when it cannot), and offers `Current`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (load: Effect.Effect<Environment, LoadError>): Layer.Layer<Current, LoadError> =>
  Layer.scoped(
    Current,
    Effect.gen(function*() {
      let current = yield* Effect.flatMap(load, (environment) => build(environment, 1))
      yield* Effect.addFinalizer(() => close(current))
      const changes = yield* SubscriptionRef.make(current.active)
      const reloading = yield* Effect.makeSemaphore(1)
      const service: Service = {
        get: SubscriptionRef.get(changes),
        use: (f) =>
          Effect.suspend(() => {
            const built = current
            return built.users.withPermits(1)(f(built.active))
          }),
        reload: reloading.withPermits(1)(
          Effect.gen(function*() {
            const next = yield* Effect.either(
              Effect.flatMap(load, (environment) => build(environment, current.active.generation + 1))
            )
            if (Either.isLeft(next)) return Either.left(next.left)
            const previous = current
            current = next.right
            yield* SubscriptionRef.set(changes, current.active)
            // requests and the task that still use the previous one finish with it
            yield* Effect.forkDaemon(close(previous))
            return Either.right(current.active)
          })
        ),
        changes
      }
      return service
    })
  )
