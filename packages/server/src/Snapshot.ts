/**
 * The certificates as they are now: `Status.status` (what `acme status --json` prints) run in the
 * current configuration. Every snapshot also sets the certificate metrics, so that they follow
 * each renewal, revocation, reload and read.
 *
 * @since 0.1.0
 */
import { Status } from "@acme/sdk"
import type { StorageError } from "@acme/sdk/StorageError"
import * as Effect from "effect/Effect"
import { Current } from "./Environment.js"
import * as Metrics from "./Metrics.js"

/**
 * @since 0.1.0
 * @category combinators
 */
export const status: Effect.Effect<Status.Report, StorageError, Current> = Effect.flatMap(
  Current,
  (current) =>
    current.use((active) =>
      Status.status.pipe(Effect.provide(active.context), Effect.tap(Metrics.fromStatus), Effect.withSpan("Server.status"))
    )
)
