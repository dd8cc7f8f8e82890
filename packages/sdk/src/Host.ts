/**
 * Where a run runs: the host name and process id that name a lease's holder, and whether another
 * process of this host is still alive. A lease (or a run) whose holder is a process of this host
 * that is gone is taken over at once instead of at its expiry.
 *
 * `NodeHost.layer` (`@acme/platform-node`) gives the real ones. Without it, a program knows no host
 * name (`"unknown"`, pid 0) and takes every other holder for alive: leases then end at expiry only.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type { Lease, LeaseHolder } from "./Lease.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** this host's name, as leases name it */
  readonly name: string
  /** this process's id */
  readonly pid: number
  /** whether the process `pid` of this host exists */
  readonly isAlive: (pid: number) => Effect.Effect<boolean>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Host extends Context.Reference<Host>()("@acme/sdk/Host", {
  defaultValue: (): Service => ({ name: "unknown", pid: 0, isAlive: () => Effect.succeed(true) })
}) {}

/**
 * The holder of a run's leases: the run, this host, this process.
 *
 * @since 0.1.0
 * @category constructors
 */
export const holder = (runId: string): Effect.Effect<LeaseHolder> =>
  Effect.map(Host, (host) => ({ runId, host: host.name, pid: host.pid }))

/**
 * Whether a holder is a process of this host that no longer exists (never this process).
 *
 * @since 0.1.0
 * @category guards
 */
export const isGone = (holder: LeaseHolder): Effect.Effect<boolean> =>
  Effect.flatMap(Host, (host) =>
    holder.host === host.name && holder.pid !== host.pid
      ? Effect.map(host.isAlive(holder.pid), (alive) => !alive)
      : Effect.succeed(false))

/**
 * The `takeOver` of a lease request: a live lease whose holder is gone (see {@link isGone}) is
 * taken over at once.
 *
 * @since 0.1.0
 * @category combinators
 */
export const takeOverGone = (current: Lease): Effect.Effect<boolean> => isGone(current.holder)
