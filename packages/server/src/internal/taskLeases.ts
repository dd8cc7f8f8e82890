/**
 * The leases of a server's tasks: several servers on one storage (Postgres, or one storage folder
 * on one host) share the tasks, and each task is run by one of them.
 *
 * A server instance is a lease holder of its own (`runId` `serve-<time>-<random>`, this host, this
 * pid). It holds a lease on every task it queued or took over, keyed `Lease.runKey("task.<id>")`,
 * from before the task is stored (or taken over) until the task's end is stored, and renews it every
 * third of `renewal.leaseTtl`. Another server takes a queued or running task over only when it can
 * have that lease: the holder let it go (it stopped), the lease expired (its host died), or the
 * holder is a process of this host that is gone. The lease goes through the `Storage` of the
 * configuration in use (`Current`), so it is the same storage the task is in.
 */
import { Host, Lease, Storage, Waits } from "@acme/sdk"
import type { StorageError } from "@acme/sdk/StorageError"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Encoding from "effect/Encoding"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import type { Active, Service as CurrentService } from "../Environment.js"

/** @internal */
export interface TaskLeases {
  /** this server instance, as the holder of its tasks' leases */
  readonly holder: Effect.Effect<Lease.LeaseHolder>
  /** takes the task's lease and keeps it alive; `Left` when another live server holds it */
  readonly take: (taskId: string) => Effect.Effect<Either.Either<void, Lease.LeaseError>, StorageError>
  /** whether this server still holds the task's lease (it was not lost to another server) */
  readonly holds: (taskId: string) => Effect.Effect<boolean>
  /** whether a live lease on the task is held (by this server or another one) */
  readonly isLeased: (taskId: string) => Effect.Effect<boolean, StorageError>
  /** stops renewing the task's lease and releases it */
  readonly release: (taskId: string) => Effect.Effect<void>
}

/** @internal */
export const taskKey = (taskId: string): string => Lease.runKey(`task.${taskId}`)

const instanceId = Effect.map(DateTime.now, (now) =>
  `serve-${DateTime.formatIso(now).replace(/[-:]/g, "").replace(/\.\d+/, "")}-${
    Encoding.encodeHex(globalThis.crypto.getRandomValues(new Uint8Array(4)))
  }`)

interface Held {
  readonly lease: Lease.Lease
  readonly renewing: Fiber.RuntimeFiber<void>
}

/**
 * The task leases of one server instance; every lease still held is released when the scope
 * closes (after the finalizers added to it later: the tasks' drain).
 *
 * @internal
 */
export const make = (current: CurrentService): Effect.Effect<TaskLeases, never, Scope.Scope> =>
  Effect.gen(function*() {
    const id = yield* instanceId
    const held = yield* Ref.make<ReadonlyMap<string, Held>>(new Map())

    /** runs `f` with the storage and host of the configuration in use */
    const withStorage = <A, E>(f: (storage: Storage.Service, active: Active) => Effect.Effect<A, E>) =>
      current.use((active) => Effect.provide(f(Context.get(active.context, Storage.Storage), active), active.context))

    const holder = current.use((active) => Effect.provide(Host.holder(id), active.context))
    const ttl = (active: Active) => active.settings.config.renewal.leaseTtl

    const forget = (taskId: string) =>
      Ref.update(held, (map) => {
        const next = new Map(map)
        next.delete(taskId)
        return next
      })

    /** renews the lease every third of the ttl; a lost lease is another server's task now */
    const keepAlive = (taskId: string, first: Lease.Lease) =>
      Effect.gen(function*() {
        let lease = first
        const renewOnce = withStorage((storage, active) => storage.renewLease(lease, ttl(active))).pipe(
          Effect.map((renewed) => {
            lease = renewed
            return true
          }),
          Effect.catchTags({
            StorageError: (error) =>
              Effect.as(Effect.logWarning(`cannot renew the lease of task ${taskId} (${error.message}); trying again`), true),
            LeaseError: (error) =>
              Effect.as(
                Effect.zipRight(
                  Effect.logWarning(`task ${taskId} is another server's now: ${error.message}`),
                  forget(taskId)
                ),
                false
              )
          })
        )
        const period = yield* current.use((active) => Effect.succeed(ttl(active)))
        yield* Effect.repeat(renewOnce, {
          schedule: Waits.leaseRenewal(period),
          while: (stillHeld) => stillHeld
        })
      }).pipe(Effect.interruptible)

    const take: TaskLeases["take"] = (taskId) =>
      Effect.gen(function*() {
        const who = yield* holder
        const got = yield* withStorage((storage, active) =>
          storage.acquireLease({ certificate: taskKey(taskId), holder: who, ttl: ttl(active), takeOver: Host.takeOverGone })
        ).pipe(
          Effect.map(Either.right),
          Effect.catchTag("LeaseError", (error) => Effect.succeed(Either.left(error)))
        )
        if (Either.isLeft(got)) return Either.left(got.left)
        // a daemon that `release` (or the scope's end, through it) stops: not stopped before the tasks drain
        const renewing = yield* Effect.forkDaemon(keepAlive(taskId, got.right))
        yield* Ref.update(held, (map) => new Map(map).set(taskId, { lease: got.right, renewing }))
        return Either.right(undefined)
      })

    const release: TaskLeases["release"] = (taskId) =>
      Effect.gen(function*() {
        const entry = (yield* Ref.get(held)).get(taskId)
        if (entry === undefined) return
        yield* forget(taskId)
        yield* Fiber.interrupt(entry.renewing)
        yield* withStorage((storage) => storage.releaseLease(entry.lease)).pipe(
          Effect.catchAll((error) => Effect.logWarning(`cannot release the lease of task ${taskId}: ${error.message}`))
        )
      })

    yield* Effect.addFinalizer(() =>
      Effect.flatMap(Ref.get(held), (map) => Effect.forEach(map.keys(), release, { discard: true }))
    )

    return {
      holder,
      take,
      holds: (taskId) => Effect.map(Ref.get(held), (map) => map.has(taskId)),
      isLeased: (taskId) => Effect.map(withStorage((storage) => storage.loadLease(taskKey(taskId))), Option.isSome),
      release
    }
  })
