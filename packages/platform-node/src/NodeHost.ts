/**
 * The SDK's `Host` on Node: this machine's host name, this process's id, and whether another
 * process of this host exists (`process.kill(pid, 0)`: no such process is `ESRCH`; `EPERM` means
 * it exists but belongs to another user). A lease or a run whose holder is a process of this host
 * that is gone is then taken over at once instead of at its expiry.
 *
 * @since 0.1.0
 */
import * as Host from "@acme/sdk/Host"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Predicate from "effect/Predicate"
import * as NodeOs from "node:os"

/**
 * Whether the process `pid` of this host exists.
 *
 * @since 0.1.0
 * @category constructors
 */
export const isAlive = (pid: number): Effect.Effect<boolean> =>
  Effect.try(() => process.kill(pid, 0)).pipe(
    Effect.as(true),
    Effect.catchAll((error) =>
      Effect.succeed(Predicate.hasProperty(error.error, "code") && error.error.code === "EPERM")
    )
  )

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (): Host.Service => ({ name: NodeOs.hostname(), pid: process.pid, isAlive })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<never> = Layer.sync(Host.Host, make)
