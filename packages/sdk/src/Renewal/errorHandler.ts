/**
 * errorHandler: decides what a failed stage means for its certificate. The runner has recorded the
 * error in the bucket (`lastError`: its tag, message, whether it is retryable and the CA's
 * Retry-After); this stage counts the attempt and replays the retry Schedule (RetryPolicy) to learn
 * the next wait. It sets `retryNotBefore` and leaves the stage to run again, or ends the certificate
 * as failed: for a final error, after `renewal.maxAttempts` attempts, or when the CA asks to wait
 * longer than `renewal.maxWait`. It never sleeps (that is the scheduler's job) and sends nothing.
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import { isProtocolError, isRetryable } from "../AcmeError.js"
import * as RetryPolicy from "../RetryPolicy.js"
import type { ErrorRecord, Stage, State } from "../RenewalState.js"
import { Storage } from "../Storage.js"
import { currentBucket, emit, RenewalSettings, updateCurrent, withErrorNonce } from "./context.js"

/**
 * The error record of a failure: retryable only for what may go away by itself (rate limits, server
 * errors, transport failures, bad nonces, poll timeouts); storage, challenge and configuration
 * problems need a person.
 *
 * @since 0.1.0
 * @category combinators
 */
export const describe = (
  error: unknown,
  stage: Stage,
  at: string
): ErrorRecord => {
  const retryAfter = Predicate.hasProperty(error, "retryAfter") && Duration.isDuration(error.retryAfter)
    ? Duration.toMillis(error.retryAfter)
    : undefined
  return {
    tag: Predicate.hasProperty(error, "_tag") && typeof error._tag === "string" ? error._tag : "UnknownError",
    message: error instanceof Error ? error.message : String(error),
    retryable: isProtocolError(error) && isRetryable(error),
    retryAfterMillis: retryAfter,
    stage,
    at
  }
}

/**
 * The runner's half: the failed stage's error goes into the bucket (with the nonce it carried).
 *
 * @since 0.1.0
 * @category combinators
 */
export const recordError = (state: State, error: unknown, at: string): State => {
  const stage = currentBucket(state).stage
  return updateCurrent(withErrorNonce(state, error), (bucket) => ({ ...bucket, lastError: describe(error, stage, at) }))
}

/**
 * A wait as people read it: "0.9 s", "12 s", "4.5 min", "2 h".
 *
 * @since 0.1.0
 * @category combinators
 */
export const formatWait = (wait: Duration.Duration): string => {
  const seconds = Duration.toMillis(wait) / 1000
  if (seconds < 10) return `${Number(seconds.toFixed(1))} s`
  if (seconds < 120) return `${Math.round(seconds)} s`
  if (seconds < 7200) return `${Number((seconds / 60).toFixed(1))} min`
  return `${Number((seconds / 3600).toFixed(1))} h`
}

/**
 * @since 0.1.0
 * @category stages
 */
export const errorHandler = (state: State): Effect.Effect<State, never, RenewalSettings | Storage> =>
  Effect.gen(function*() {
    const settings = yield* RenewalSettings
    const storage = yield* Storage
    const bucket = currentBucket(state)
    const record = bucket.lastError
    if (record === undefined) return state
    const attempts = bucket.attempts + 1
    const policy = RetryPolicy.schedule({ maxAttempts: settings.config.renewal.maxAttempts })
    const delay = yield* RetryPolicy.nextDelay(policy, attempts, {
      retryable: record.retryable,
      retryAfter: record.retryAfterMillis !== undefined ? Duration.millis(record.retryAfterMillis) : undefined
    })
    const maxWait = settings.config.renewal.maxWait
    const now = yield* DateTime.now

    const fail = (reason: string) =>
      Effect.gen(function*() {
        // the key written for an order that will not finish this run is of no use
        const key = bucket.certificateKey
        if (key?._tag === "Pending") {
          yield* storage.deletePendingKey(key.reference).pipe(Effect.catchAll((e) => Effect.logWarning(e.message)))
        }
        yield* emit({ _tag: "CertificateFinished", certificate: bucket.name, action: "failed", reason })
        return updateCurrent(state, (b) => ({
          ...b,
          attempts,
          stage: "failed" as const,
          retryNotBefore: undefined,
          certificateKey: key?._tag === "Pending" ? undefined : b.certificateKey,
          result: { action: "failed" as const, reason }
        }))
      })

    if (Option.isNone(delay)) {
      const after = record.retryable ? ` (gave up after ${attempts} attempts)` : ""
      return yield* fail(`${record.message}${after}`)
    }
    if (Duration.greaterThan(delay.value, maxWait)) {
      const until = DateTime.formatIso(DateTime.addDuration(now, delay.value))
      return yield* fail(
        `${record.message} (the CA asks to wait until ${until}, longer than renewal.maxWait ${formatWait(maxWait)}; the next run tries again)`
      )
    }
    yield* emit({
      _tag: "Retrying",
      certificate: bucket.name,
      stage: record.stage,
      attempt: attempts + 1,
      waitMillis: Duration.toMillis(delay.value),
      error: record.message
    })
    yield* Effect.logWarning(
      `${bucket.name}: ${record.stage} failed (${record.message}); attempt ${attempts + 1} of ${settings.config.renewal.maxAttempts} in ${
        formatWait(delay.value)
      }`
    )
    return updateCurrent(state, (b) => ({
      ...b,
      attempts,
      retryNotBefore: DateTime.formatIso(DateTime.addDuration(now, delay.value)),
      // the challenge responses were cleaned up when verify failed: present them again first
      stage: b.stage === "verify" ? "present" as const : b.stage
    }))
  })
