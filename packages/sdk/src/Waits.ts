/**
 * Every wait and every retry of the SDK and its providers, as named `Schedule`s with their bounds
 * as named defaults. Nothing else in the SDK sleeps or loops; docs/architecture.md ("Waits") lists
 * where each one runs and the option that changes it.
 *
 * - {@link poll}: polling an authorization or order until the CA is done (not a retry: the CA's
 *   own progress). Inside `AcmeProtocol.pollAuthorization` / `pollOrder`, so inside the verify and
 *   finalize stages.
 * - {@link badNonce}: a signed POST answered `badNonce` is sent again at once with the nonce that
 *   came with the error (RFC 8555 §6.5). Inside every signed `AcmeProtocol` call.
 * - {@link retry}: how long the renewal pipeline waits before trying a failed certificate again.
 *   The error handler replays it ({@link nextRetryDelay}) and only the scheduler stage sleeps.
 * - {@link propagation}: a dns-01 TXT record asked for at the authoritative servers until they all
 *   serve it (`@acme/dns` `Dns01`, inside the present stage).
 * - {@link dnsUdpRetry}: a DNS query over UDP that got no answer is sent once more before TCP
 *   (`@acme/dns`).
 * - {@link leaseRenewal}: a run renews the lease it holds on a certificate (and on itself) while
 *   it works, every third of the lease's ttl (not a retry: keeping a claim alive).
 * - {@link leaseWait}: `acme renew --wait` asks again for a certificate another run holds, until
 *   that run lets it go or the wait is over.
 * - {@link storageLock}: the file system storage waits for its lock file, which another process
 *   holds for the milliseconds of a lease operation or a fenced write.
 *
 * All of them sleep through Effect's `Clock`, so `TestClock` drives them in tests.
 *
 * @since 0.1.0
 */
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"

// -- polling the CA ----------------------------------------------------------------------------

/**
 * The first wait between two polls (`AcmeProtocol` option `pollInterval`): a CA that validates at
 * once is not waited for, a slow one costs a few more polls.
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaultPollInterval: Duration.Duration = Duration.millis(250)

/**
 * The longest computed wait between two polls (`maxPollInterval`); a longer `Retry-After` still wins.
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaultMaxPollInterval: Duration.Duration = Duration.seconds(10)

/**
 * How long one poll of an authorization or order may take in all (`pollTimeout`, or the call's `timeout`).
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaultPollTimeout: Duration.Duration = Duration.minutes(3)

/**
 * One answer of a poll: whether the resource is done, the CA's `Retry-After`, and the Clock time
 * of the answer in milliseconds.
 *
 * @since 0.1.0
 * @category models
 */
export interface PollStep {
  readonly done: boolean
  readonly retryAfter: Duration.Duration | undefined
  readonly at: number
}

/**
 * The poll schedule: waits grow from `interval` by half each time up to `maxInterval`, a longer
 * `Retry-After` from the CA wins (a shorter one, `0` included, never makes polling faster than the
 * schedule: no answer of a CA can turn polling into a tight loop), and polling stops when the
 * resource is done or when the next wait would end after `deadline` (Clock milliseconds). Its
 * output is the last step.
 *
 * @since 0.1.0
 * @category schedules
 */
export const poll = <A extends PollStep>(options: {
  readonly interval: Duration.Duration
  readonly maxInterval: Duration.Duration
  readonly deadline: number
}): Schedule.Schedule<A, A> => {
  const wait = (backoff: Duration.Duration, step: A): Duration.Duration => {
    const computed = Duration.min(backoff, options.maxInterval)
    return step.retryAfter !== undefined ? Duration.max(step.retryAfter, computed) : computed
  }
  return Schedule.exponential(options.interval, 1.5).pipe(
    Schedule.intersect(Schedule.identity<A>()),
    Schedule.whileOutput(([backoff, step]) =>
      !step.done && step.at + Duration.toMillis(wait(backoff, step)) <= options.deadline
    ),
    Schedule.modifyDelay(([backoff, step]) => wait(backoff, step)),
    Schedule.map(([, step]) => step)
  )
}

// -- badNonce -----------------------------------------------------------------------------------

/**
 * How many times one signed call is sent again after `badNonce` (`AcmeProtocol` option
 * `badNonceRetries`): a CA that rejects 90% of nonces still lets 98.7% of requests through.
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaultBadNonceRetries = 40

/**
 * The badNonce retry: at once (the error carried the next nonce, nothing to wait for), at most
 * `retries` times, and only while the error is a `BadNonce`.
 *
 * @since 0.1.0
 * @category schedules
 */
export const badNonce = (
  retries: number = defaultBadNonceRetries
): Schedule.Schedule<number, { readonly _tag: string }> =>
  Schedule.recurs(retries).pipe(Schedule.whileInput((error: { readonly _tag: string }) => error._tag === "BadNonce"))

// -- retrying a failed certificate -------------------------------------------------------------

/**
 * Attempts at a certificate in one run, the first one included (`renewal.maxAttempts`).
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaultMaxAttempts = 5

/**
 * The longest single wait between attempts the pipeline accepts (`renewal.maxWait`): when the CA
 * asks for longer, the certificate is left to the next run instead of blocking this one.
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaultMaxWait: Duration.Duration = Duration.hours(1)

/**
 * The first wait before another attempt.
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaultRetryBase: Duration.Duration = Duration.seconds(1)

/**
 * The longest computed wait before another attempt; a longer `Retry-After` still wins.
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaultRetryCap: Duration.Duration = Duration.minutes(5)

/**
 * What the retry policy knows about a failure.
 *
 * @since 0.1.0
 * @category models
 */
export interface RetryFailure {
  readonly retryable: boolean
  readonly retryAfter?: Duration.Duration | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface RetryOptions {
  /** attempts in all, the first one included (default {@link defaultMaxAttempts}) */
  readonly maxAttempts?: number | undefined
  /** the first wait (default {@link defaultRetryBase}) */
  readonly base?: Duration.DurationInput | undefined
  /** the longest computed wait (default {@link defaultRetryCap}); a longer Retry-After still wins */
  readonly cap?: Duration.DurationInput | undefined
}

/**
 * The retry policy between attempts at a certificate: exponential from `base` with jitter, each
 * wait capped at `cap`, at most `maxAttempts` attempts, only for retryable failures, and a longer
 * `Retry-After` wins. Its output is the wait before the next attempt.
 *
 * @since 0.1.0
 * @category schedules
 */
export const retry = (options: RetryOptions = {}): Schedule.Schedule<Duration.Duration, RetryFailure> => {
  const maxAttempts = Math.max(1, options.maxAttempts ?? defaultMaxAttempts)
  const cap = Duration.decode(options.cap ?? defaultRetryCap)
  return Schedule.exponential(options.base ?? defaultRetryBase, 2).pipe(
    Schedule.jittered,
    Schedule.modifyDelay((_, delay) => Duration.min(delay, cap)),
    Schedule.intersect(Schedule.recurs(maxAttempts - 1)),
    Schedule.intersect(Schedule.identity<RetryFailure>()),
    Schedule.whileInput((failure: RetryFailure) => failure.retryable),
    Schedule.modifyDelay(([, failure], delay) =>
      failure.retryAfter !== undefined ? Duration.max(failure.retryAfter, delay) : delay
    ),
    Schedule.delays
  )
}

/**
 * The wait before the next attempt after `attempts` failed attempts, the last of which failed
 * with `failure`; `None` when the policy gives up (a final error, or no attempts left).
 *
 * @since 0.1.0
 * @category combinators
 */
export const nextRetryDelay = (
  policy: Schedule.Schedule<Duration.Duration, RetryFailure>,
  attempts: number,
  failure: RetryFailure
): Effect.Effect<Option.Option<Duration.Duration>> =>
  // `Schedule.run` also emits the output of the step that ends the schedule, so feed one more
  // input than there were attempts: all `attempts` steps continued exactly when every input was used.
  Effect.map(
    Schedule.run(policy, 0, Array.from({ length: attempts + 1 }, () => failure)),
    (delays) => Chunk.size(delays) === attempts + 1 ? Chunk.get(delays, attempts - 1) : Option.none()
  )

// -- bounds of one exchange and of a run --------------------------------------------------------

/**
 * How long one HTTP exchange with the CA may take, body included (`ca.requestTimeout`; the
 * `AcmeProtocol` option `requestTimeout`). Not a wait: the bound on a single request.
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaultRequestTimeout: Duration.Duration = Duration.seconds(30)

/**
 * The largest answer body accepted from the CA, in bytes (`ca.maxBodyBytes`; the `AcmeProtocol`
 * option `maxBodyBytes`): 1 MiB, far above any ACME resource or certificate chain.
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaultMaxBodyBytes = 1024 * 1024

/**
 * How long one renewal run may take in all (`renewal.maxRunTime`), counted from its start. When it
 * is reached, the certificate being worked on is interrupted, the run is checkpointed (the next
 * run goes on from there) and every certificate left is reported as postponed; a retry wait that
 * would end after it postpones its certificate at once.
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaultMaxRunTime: Duration.Duration = Duration.minutes(30)

// -- dns-01 -----------------------------------------------------------------------------------------

/**
 * How long a dns-01 record may take to show at every authoritative server (`propagation.timeout`).
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaultPropagationTimeout: Duration.Duration = Duration.minutes(2)

/**
 * How long to wait before asking the servers that did not have the record again (`propagation.interval`).
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaultPropagationInterval: Duration.Duration = Duration.seconds(2)

/**
 * The dns-01 propagation wait: ask again every `interval` until `timeout` has passed since the
 * first question.
 *
 * @since 0.1.0
 * @category schedules
 */
export const propagation = (options: {
  readonly interval: Duration.DurationInput
  readonly timeout: Duration.DurationInput
}): Schedule.Schedule<number> => Schedule.spaced(options.interval).pipe(Schedule.upTo(options.timeout))

/**
 * A DNS query over UDP is asked this many times, each within half the query's timeout, before TCP.
 *
 * @since 0.1.0
 * @category defaults
 */
export const dnsUdpTries = 2

/**
 * The retry of a DNS query over UDP that got no answer: once more, at once (the timeout of the
 * first try was the wait).
 *
 * @since 0.1.0
 * @category schedules
 */
export const dnsUdpRetry: Schedule.Schedule<number> = Schedule.recurs(dnsUdpTries - 1)

// -- leases ---------------------------------------------------------------------------------------

/**
 * How long a lease on a certificate (and a run's lease on itself) lasts unless its holder renews it
 * (`renewal.leaseTtl`): how long the others wait for a holder that stopped without letting go (a
 * host that died; a process of this host that is gone is taken over at once).
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaultLeaseTtl: Duration.Duration = Duration.minutes(2)

/**
 * The renewal of a held lease: every third of its ttl, so that two renewals in a row may fail (a
 * slow storage) before it expires.
 *
 * @since 0.1.0
 * @category schedules
 */
export const leaseRenewal = (ttl: Duration.DurationInput): Schedule.Schedule<number> =>
  Schedule.spaced(Duration.unsafeDivide(ttl, 3))

/**
 * How often `acme renew --wait` asks again for a certificate another run holds.
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaultLeaseWaitInterval: Duration.Duration = Duration.seconds(1)

/**
 * Waiting for a lease: ask again every `interval` while less than `timeout` has passed since the
 * first ask (the `--wait` duration).
 *
 * @since 0.1.0
 * @category schedules
 */
export const leaseWait = (options: {
  readonly interval: Duration.DurationInput
  readonly timeout: Duration.DurationInput
}): Schedule.Schedule<number> => Schedule.spaced(options.interval).pipe(Schedule.upTo(options.timeout))

/**
 * How long the file system storage waits for its lock before it gives up with a `StorageError`
 * naming the process that holds it. The lock is held for milliseconds; a holder that is stopped
 * (SIGSTOP, a debugger) keeps it, since a live holder's lock is never broken.
 *
 * @since 0.1.0
 * @category defaults
 */
export const defaultStorageLockTimeout: Duration.Duration = Duration.seconds(30)

/**
 * Waiting for the file system storage's lock: from 2 ms, growing by half each time up to 100 ms,
 * jittered (processes that met at the lock do not meet again), while less than `timeout` has passed.
 *
 * @since 0.1.0
 * @category schedules
 */
export const storageLock = (timeout: Duration.DurationInput = defaultStorageLockTimeout): Schedule.Schedule<unknown> =>
  Schedule.exponential(Duration.millis(2), 1.5).pipe(
    Schedule.modifyDelay((_, delay) => Duration.min(delay, Duration.millis(100))),
    Schedule.jittered,
    Schedule.upTo(timeout)
  )
