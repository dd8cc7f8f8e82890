/**
 * Leases: how several runs sharing one storage never work on the same certificate at once.
 *
 * A run leases a certificate before its first network call for it and holds the lease until its
 * files are stored (or it gives up). A lease names its holder (run id, host, pid), expires unless
 * the holder renews it, and carries a **fencing token**: a number that grows with every grant on
 * that certificate, across holders and releases. Every write for the certificate goes through the
 * lease (`storage.fenced(lease)`), and the storage refuses a write whose token is no longer the
 * current one, in the same step as the write: a holder that was paused past its expiry, while
 * another run took the certificate over, gets a `LeaseError` with reason `Lost` instead of
 * overwriting its successor's work.
 *
 * The rules every Storage implements (the conformance suite checks them):
 *
 * - **acquire** is non-blocking: it grants a lease unless another holder has a live one (not
 *   released, not expired, and not one the request may take over), and then fails with `Held`,
 *   naming that holder and its expiry. A grant's token is the certificate's previous token + 1.
 *   A holder that acquires a certificate it holds gets a new grant; its older lease is lost.
 * - **renew** extends the expiry from now while the lease is still the last one granted and not
 *   released (an expired lease nobody took over can be renewed); otherwise it fails with `Lost`.
 * - **release** ends the lease at once; releasing a lost or released lease does nothing.
 * - **a write** through `fenced(lease)` is accepted while the lease is the last one granted for its
 *   certificate and not released. Expiry alone does not refuse a write: a newer grant does.
 *
 * A run also holds a lease on itself while it works, keyed {@link runKey}: its checkpoint belongs
 * to it, and a process resumes an interrupted run only once it can take that lease (the run ended,
 * its lease expired, or its holder is a process of this host that is gone).
 *
 * Time is Effect's `Clock` of the process that asks; hosts sharing a database keep their clocks in
 * sync (NTP). A skew shortens or lengthens a lease by that much, and fencing keeps the data right
 * either way.
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

/**
 * Who holds a lease: a run of one process on one host.
 *
 * @since 0.1.0
 * @category schemas
 */
export const LeaseHolder = Schema.Struct({
  runId: Schema.String,
  host: Schema.String,
  pid: Schema.Int
})

/**
 * @since 0.1.0
 * @category models
 */
export type LeaseHolder = typeof LeaseHolder.Type

/**
 * A granted lease. It holds no secret and may be kept in a checkpoint.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Lease = Schema.Struct({
  certificate: Schema.String,
  holder: LeaseHolder,
  /** the fencing token: strictly increasing per certificate, across all grants */
  token: Schema.Int,
  expiresAt: Schema.DateTimeUtc
})

/**
 * @since 0.1.0
 * @category models
 */
export type Lease = typeof Lease.Type

/**
 * What `acquireLease` asks for.
 *
 * @since 0.1.0
 * @category models
 */
export interface LeaseRequest {
  readonly certificate: string
  readonly holder: LeaseHolder
  /** how long the lease lasts unless renewed */
  readonly ttl: Duration.DurationInput
  /**
   * May a live lease of another holder be taken over at once? For example when its holder is a
   * process of this host that no longer exists (`Host.takeOverGone`). Default: never (only at
   * expiry). Asked while the storage holds the certificate's lock: keep it quick.
   */
  readonly takeOver?: ((current: Lease) => Effect.Effect<boolean>) | undefined
}

/**
 * The key of a run's own lease (leases are keyed by certificate name, or by this): `@run.<run id>`,
 * which no certificate name can be.
 *
 * @since 0.1.0
 * @category constructors
 */
export const runKey = (runId: string): string => `${runKeyPrefix}${runId}`

/**
 * @since 0.1.0
 * @category constants
 */
export const runKeyPrefix = "@run."

/**
 * The run a lease key is of, when it is a run's key.
 *
 * @since 0.1.0
 * @category combinators
 */
export const runOfKey = (key: string): string | undefined =>
  key.startsWith(runKeyPrefix) ? key.slice(runKeyPrefix.length) : undefined

/**
 * Whether two holders are the same run of the same process.
 *
 * @since 0.1.0
 * @category guards
 */
export const sameHolder = (a: LeaseHolder, b: LeaseHolder): boolean =>
  a.runId === b.runId && a.host === b.host && a.pid === b.pid

/**
 * Whether a lease has not expired at `now`.
 *
 * @since 0.1.0
 * @category guards
 */
export const isLive = (lease: Lease, now: DateTime.Utc): boolean => DateTime.lessThan(now, lease.expiresAt)

const describeHolder = (holder: LeaseHolder): string => `run ${holder.runId} (pid ${holder.pid} on ${holder.host})`

/**
 * A lease could not be had or is no longer held.
 *
 * - `Held`: another holder has a live lease on the certificate (`holder`, until `expiresAt`).
 * - `Lost`: the lease presented (`token`) is not the current one: a newer lease was granted (to
 *   `holder`, when there is a live one), or it was released. Its writes are refused.
 * - `RunOwned`: the checkpoint of run `runId` belongs to another holder (`holder`); a run never
 *   writes another run's checkpoint.
 *
 * @since 0.1.0
 * @category errors
 */
export class LeaseError extends Schema.TaggedError<LeaseError>("@acme/sdk/LeaseError")("LeaseError", {
  reason: Schema.Literal("Held", "Lost", "RunOwned"),
  certificate: Schema.optional(Schema.String),
  runId: Schema.optional(Schema.String),
  /** Held: the holder; Lost: the holder of the newer lease, if it is live; RunOwned: the run's owner */
  holder: Schema.optional(LeaseHolder),
  /** Held: when the holder's lease expires */
  expiresAt: Schema.optional(Schema.DateTimeUtc),
  /** Lost: the token that was refused */
  token: Schema.optional(Schema.Int),
  /** Lost: the certificate's current token */
  currentToken: Schema.optional(Schema.Int)
}) {
  override get message(): string {
    const certificate = this.certificate ?? "the certificate"
    switch (this.reason) {
      case "Held":
        return `${certificate} is being renewed by ${
          this.holder === undefined ? "another run" : describeHolder(this.holder)
        }${
          this.expiresAt === undefined ? "" : ` (lease until ${DateTime.formatIso(this.expiresAt)})`
        }; it is left to that run: wait for it, or run again after the lease ends`
      case "Lost":
        return `the lease on ${certificate} (token ${this.token ?? "?"}) was lost: ${
          this.holder !== undefined
            ? `${describeHolder(this.holder)} holds it now (token ${this.currentToken ?? "?"})`
            : this.currentToken === undefined
            ? "this storage has no lease on it"
            : this.currentToken !== this.token
            ? `a newer lease (token ${this.currentToken}) was granted since`
            : "it was released"
        }; the write was refused so as not to overwrite the newer holder's work`
      case "RunOwned":
        return `the checkpoint of run ${this.runId ?? "?"} belongs to ${
          this.holder === undefined ? "another process" : describeHolder(this.holder)
        }; a run never writes another run's checkpoint (start a new run instead)`
    }
  }
}

/**
 * @since 0.1.0
 * @category guards
 */
export const isLeaseError = (u: unknown): u is LeaseError => Schema.is(LeaseError)(u)
