/**
 * errorHandler: decides what a failed stage means for its certificate. The runner has recorded the
 * error in the bucket (`lastError`: its tag, message, whether it is retryable and the CA's
 * Retry-After); this stage counts the attempt and replays the retry Schedule (RetryPolicy) to learn
 * the next wait. It sets `retryNotBefore` and leaves the stage to run again, or ends the certificate
 * for this run: failed for a final error or after `renewal.maxAttempts` attempts; postponed (with the
 * time the next attempt may come) when the CA asks to wait longer than `renewal.maxWait`, or when the
 * wait would end after the run's time budget (`renewal.maxRunTime`). It never sleeps (that is the
 * scheduler's job) and sends nothing.
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { RenewalSettings } from "../RenewalSettings.js"
import * as RetryPolicy from "../RetryPolicy.js"
import { emit } from "./context.js"
import { CertificateWrites } from "./lease.js"
import * as Stage from "./stage.js"

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
export const errorHandler: Stage.Stage<never, RenewalSettings | CertificateWrites> = Stage.make(({ bucket, state }) =>
  Effect.gen(function*() {
    const { renewal } = (yield* RenewalSettings).config
    const record = bucket.lastError
    if (record === undefined) return {}
    const attempts = bucket.attempts + 1
    const delay = yield* RetryPolicy.nextDelay(RetryPolicy.schedule({ maxAttempts: renewal.maxAttempts }), attempts, {
      retryable: record.retryable,
      retryAfter: record.retryAfterMillis !== undefined ? Duration.millis(record.retryAfterMillis) : undefined
    })
    const now = yield* DateTime.now
    const deadline = Option.getOrUndefined(Option.flatMap(Option.fromNullable(state.deadline), DateTime.make))

    /** ends the certificate for this run */
    const finish = (
      action: "failed" | "postponed",
      reason: string,
      notBefore?: string
    ): Effect.Effect<Stage.Changes, never, CertificateWrites> =>
      Effect.gen(function*() {
        // the key written for an order that will not finish this run is of no use
        const key = bucket.certificateKey
        if (key?._tag === "Pending") {
          yield* Effect.flatMap(CertificateWrites, (writes) => writes.deletePendingKey(key.reference)).pipe(
            Effect.catchAll((e) => Effect.logWarning(e.message))
          )
        }
        yield* emit({ _tag: "CertificateFinished", certificate: bucket.name, action, reason })
        return {
          attempts,
          stage: "failed",
          retryNotBefore: undefined,
          certificateKey: key?._tag === "Pending" ? undefined : key,
          result: { action, reason, notBefore }
        }
      })

    if (Option.isNone(delay)) {
      return yield* finish("failed", `${record.message}${record.retryable ? ` (gave up after ${attempts} attempts)` : ""}`)
    }
    const until = DateTime.addDuration(now, delay.value)
    const at = DateTime.formatIso(until)
    if (Duration.greaterThan(delay.value, renewal.maxWait)) {
      const limit = `renewal.maxWait ${formatWait(renewal.maxWait)}`
      return yield* finish("postponed", `${record.message} (next attempt not before ${at}, longer than ${limit}; the next run tries again)`, at)
    }
    if (deadline !== undefined && DateTime.greaterThan(until, deadline)) {
      const limit = `renewal.maxRunTime ${formatWait(renewal.maxRunTime)}`
      return yield* finish("postponed", `${record.message} (next attempt not before ${at}, after the run's time budget, ${limit}; the next run tries again)`, at)
    }
    const wait = formatWait(delay.value)
    yield* emit({
      _tag: "Retrying",
      certificate: bucket.name,
      stage: record.stage,
      attempt: attempts + 1,
      waitMillis: Duration.toMillis(delay.value),
      error: record.message
    })
    yield* Effect.logWarning(
      `${bucket.name}: ${record.stage} failed (${record.message}); attempt ${attempts + 1} of ${renewal.maxAttempts} in ${wait}`
    )
    return {
      attempts,
      retryNotBefore: at,
      // the challenge responses were cleaned up when verify failed: present them again first
      stage: bucket.stage === "verify" ? "present" : bucket.stage
    }
  })
)
