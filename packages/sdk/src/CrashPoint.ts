/**
 * Named places where a process may be stopped on purpose: stage boundaries of the renewal pipeline
 * (`before:<stage>`, `after:<stage>`) and the inside of atomic writes (`write:<file>:before-rename`).
 * Crash-safety tests set a Layer that kills the process at one of them and check that the next run
 * converges. By default reaching a point does nothing.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly reach: (point: string) => Effect.Effect<void>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class CrashPoint extends Context.Reference<CrashPoint>()("@acme/sdk/CrashPoint", {
  defaultValue: (): Service => ({ reach: () => Effect.void })
}) {}

/**
 * Marks a crash point.
 *
 * @since 0.1.0
 * @category combinators
 */
export const reach = (point: string): Effect.Effect<void> => Effect.flatMap(CrashPoint, (crash) => crash.reach(point))
