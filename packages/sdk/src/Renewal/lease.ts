/**
 * Leases in the renewal pipeline: a run works on a certificate only while it holds the
 * certificate's lease (see the `Lease` module), and writes for it only through that lease.
 *
 * - The lease is taken before the first network call for the certificate (before `account`), kept
 *   alive every third of its ttl (`renewal.leaseTtl`) while the stages run, and released when the
 *   certificate's files are stored or the run gives up on it.
 * - A certificate another live run holds is left to it: reported `skipped` ("being renewed by run
 *   … (pid …)"), or, with `wait`, tried again once the others are done, until the wait is over.
 * - A certificate another run renewed since this run's scan read it is not ordered again.
 * - The stages write through {@link CertificateWrites}, the checkpoint carries the lease too: once
 *   the lease is lost (a newer holder took it over after this process was paused past its expiry),
 *   every write is refused, the certificate's attempt ends at once, and it is reported failed with
 *   the `LeaseError`: this run lost the lease and wrote nothing more for it.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import type { CertificateName } from "../CertificateName.js"
import * as Host from "../Host.js"
import { type Lease, LeaseError, type LeaseHolder, type LeaseRequest } from "../Lease.js"
import { RenewalSettings } from "../RenewalSettings.js"
import * as RenewalState from "../RenewalState.js"
import { type FencedWrites, Storage, type StorageError } from "../Storage.js"
import * as Waits from "../Waits.js"
import { emit, nowIso } from "./context.js"
import type { Working } from "./stage.js"

/**
 * The writes of the certificate the stages work on, fenced by the run's lease on it.
 *
 * @since 0.1.0
 * @category tags
 */
export class CertificateWrites extends Context.Tag("@acme/sdk/Renewal/CertificateWrites")<
  CertificateWrites,
  FencedWrites
>() {}

/**
 * The configured lease ttl.
 *
 * @since 0.1.0
 * @category accessors
 */
export const leaseTtl: Effect.Effect<Duration.Duration, never, RenewalSettings> = Effect.map(
  RenewalSettings,
  (settings) => settings.config.renewal.leaseTtl
)

/**
 * A holder as reports name it: `run <id> (pid <n>)`, with its host when it is another one.
 *
 * @since 0.1.0
 * @category combinators
 */
export const describeHolder = (holder: LeaseHolder): Effect.Effect<string> =>
  Effect.map(
    Host.Host,
    (host) => `run ${holder.runId} (pid ${holder.pid}${holder.host === host.name ? "" : ` on ${holder.host}`})`
  )

/**
 * Runs `body` while holding `lease`: renews it every third of `ttl`, and ends `body` with the
 * renewal's `Lost` as soon as the lease is lost. A storage that fails to renew it is logged, and the
 * next renewal tries again (the lease may still expire: then the next write says so).
 *
 * @since 0.1.0
 * @category combinators
 */
export const keepingAlive = <A, E, R>(
  lease: Lease,
  ttl: Duration.DurationInput,
  body: Effect.Effect<A, E, R>
): Effect.Effect<A, E | LeaseError, R | Storage> =>
  Effect.gen(function*() {
    const storage = yield* Storage
    const current = yield* Ref.make(lease)
    const renewOnce = Ref.get(current).pipe(
      Effect.flatMap((held) => storage.renewLease(held, ttl)),
      Effect.flatMap((renewed) => Ref.set(current, renewed)),
      Effect.catchTag("StorageError", (error) =>
        Effect.logWarning(`cannot renew the lease on ${lease.certificate} (${error.message}); trying again`))
    )
    // interruptible whatever the caller's region: a fiber forked where interruption is off (a Layer's
    // construction, a server's worker) inherits that, and the race could then never stop the renewals
    const renewing = Effect.interruptible(
      Effect.flatMap(Effect.schedule(renewOnce, Waits.leaseRenewal(ttl)), () => Effect.never)
    )
    return yield* Effect.raceFirst(body, renewing)
  })

/**
 * Takes a lease for `holder` on `key` (a certificate, or a run's key) with the configured ttl; a
 * live lease whose holder is a process of this host that is gone is taken over at once.
 *
 * @since 0.1.0
 * @category constructors
 */
export const acquire = (
  key: string,
  holder: LeaseHolder,
  wait?: Duration.DurationInput | undefined
): Effect.Effect<Lease, LeaseError | StorageError, Storage | RenewalSettings> =>
  Effect.gen(function*() {
    const storage = yield* Storage
    const request: LeaseRequest = { certificate: key, holder, ttl: yield* leaseTtl, takeOver: Host.takeOverGone }
    const once = storage.acquireLease(request)
    return yield* wait === undefined ? once : once.pipe(
      Effect.retry({
        schedule: Waits.leaseWait({ interval: Waits.defaultLeaseWaitInterval, timeout: wait }),
        while: (error) => error._tag === "LeaseError" && error.reason === "Held"
      })
    )
  })

/**
 * Runs `use` with the writes of a short lease on a certificate (a revocation, the renewalInfo a scan
 * keeps): `None` when another run holds the certificate.
 *
 * @since 0.1.0
 * @category combinators
 */
export const briefly = <A, E, R>(
  runId: string,
  certificate: string,
  use: (writes: FencedWrites) => Effect.Effect<A, E, R>
): Effect.Effect<Either.Either<A, LeaseError>, E | StorageError | LeaseError, R | Storage | RenewalSettings> =>
  Effect.gen(function*() {
    const storage = yield* Storage
    const got = yield* Effect.either(acquire(certificate, yield* Host.holder(runId)))
    if (Either.isLeft(got)) {
      const error = got.left
      return error._tag === "LeaseError" && error.reason === "Held" ? Either.left(error) : yield* Effect.fail(error)
    }
    const lease = got.right
    return yield* keepingAlive(lease, yield* leaseTtl, use(storage.fenced(lease))).pipe(
      Effect.map(Either.right),
      Effect.ensuring(Effect.ignore(storage.releaseLease(lease)))
    )
  })

/**
 * Saves a run's checkpoint (or, with `append`, a change to it) as the run's holder, with the current certificate's lease when there is
 * one (the checkpoint then says something about that certificate). A checkpoint another process
 * took over (this one was paused past its run's lease, on another host) is that process's now:
 * this run no longer writes it, says so once, and goes on under its certificate leases.
 *
 * @since 0.1.0
 * @category combinators
 */
export const saveCheckpoint = (
  runId: string,
  json: string,
  append = false
): Effect.Effect<void, StorageError | LeaseError, Storage> =>
  Effect.gen(function*() {
    const storage = yield* Storage
    const writes = yield* Effect.serviceOption(CertificateWrites)
    yield* storage.saveRunCheckpoint({
      holder: yield* Host.holder(runId),
      json,
      append,
      lease: Option.getOrUndefined(Option.map(writes, (w) => w.lease))
    }).pipe(
      Effect.catchIf(
        (error) => error._tag === "LeaseError" && error.reason === "RunOwned",
        (error) => Effect.logWarning(`this run's state is no longer saved: ${error.message}`)
      )
    )
  })

/**
 * The outcome of an effect that may fail with a `LeaseError`: the lease errors stay errors (they end
 * the certificate, not just the stage), every other failure becomes a `Left` for the error handler.
 *
 * @since 0.1.0
 * @category combinators
 */
export const attempt = <A, E, R>(
  effect: Effect.Effect<A, E | LeaseError, R>
): Effect.Effect<Either.Either<A, Exclude<E, LeaseError>>, LeaseError, R> =>
  effect.pipe(
    Effect.map((a) => Either.right(a)),
    Effect.catchAll((error) =>
      error instanceof LeaseError
        ? Effect.fail(error)
        // every error that is not a LeaseError
        : Effect.succeed(Either.left(error as Exclude<E, LeaseError>))
    )
  )

const finish = (
  working: Ref.Ref<Working>,
  name: CertificateName,
  bucket: (bucket: RenewalState.Bucket) => RenewalState.Bucket,
  event: { readonly action: string; readonly reason: string }
) =>
  Effect.zipRight(
    Ref.update(working, (w) => ({ ...w, state: RenewalState.updateBucket(w.state, name, bucket) })),
    emit({ _tag: "CertificateFinished", certificate: name, ...event })
  )

const skip = (
  working: Ref.Ref<Working>,
  name: CertificateName,
  reason: string,
  stored?: { readonly serialNumber: string; readonly notAfter: string }
) =>
  finish(working, name, (bucket) => ({
    ...bucket,
    stage: "skipped",
    retryNotBefore: undefined,
    result: {
      action: "skipped",
      reason,
      serialNumber: stored?.serialNumber ?? bucket.current?.serialNumber,
      notAfter: stored?.notAfter ?? bucket.current?.notAfter
    }
  }), { action: "skipped", reason })

/** the bucket of a run that lost its lease on it: failed with the LeaseError, nothing more written */
const lose = (working: Ref.Ref<Working>, name: CertificateName, error: LeaseError) =>
  Effect.gen(function*() {
    const at = yield* nowIso
    const reason = `this run lost its lease on ${name} and stopped working on it: ${error.message}`
    yield* Effect.logWarning(reason)
    yield* finish(working, name, (bucket) => ({
      ...bucket,
      stage: "failed",
      retryNotBefore: undefined,
      lastError: {
        tag: error._tag,
        message: error.message,
        retryable: false,
        stage: RenewalState.workStages.includes(bucket.stage) ? bucket.stage : "store",
        at
      },
      result: { action: "failed", reason }
    }), { action: "failed", reason })
  })

const hasWorkLeft = (working: Ref.Ref<Working>, name: CertificateName) =>
  Effect.map(Ref.get(working), ({ state }) =>
    Option.exists(RenewalState.bucket(state, name), (bucket) => RenewalState.workStages.includes(bucket.stage)))

/**
 * The stored certificate, when another run stored one since this run's scan read the certificate
 * (and this run has no order of its own for it yet).
 */
const renewedMeanwhile = (working: Ref.Ref<Working>, name: CertificateName) =>
  Effect.gen(function*() {
    const bucket = RenewalState.bucket((yield* Ref.get(working)).state, name)
    if (Option.isNone(bucket) || bucket.value.order !== undefined) return Option.none()
    const stored = yield* Effect.flatMap(Storage, (storage) => storage.loadCertificate(name))
    return Option.filter(stored, (s) => s.metadata.serialNumber !== bucket.value.current?.serialNumber)
  })

/**
 * One certificate under its lease: `Left(Held)` when another run holds it (nothing done), else
 * `body` under the lease as described in the module, and the bucket marked when it was renewed
 * meanwhile or the lease was lost.
 */
const holding = <E, R>(
  working: Ref.Ref<Working>,
  name: CertificateName,
  wait: Duration.DurationInput | undefined,
  body: Effect.Effect<void, E | LeaseError, R>
): Effect.Effect<
  Either.Either<void, LeaseError>,
  Exclude<E, LeaseError> | StorageError | LeaseError,
  Exclude<R, CertificateWrites> | Storage | RenewalSettings
> =>
  Effect.gen(function*() {
    const storage = yield* Storage
    const { state } = yield* Ref.get(working)
    const got = yield* Effect.either(acquire(name, yield* Host.holder(state.runId), wait))
    if (Either.isLeft(got)) {
      const error = got.left
      return error._tag === "LeaseError" && error.reason === "Held" ? Either.left(error) : yield* Effect.fail(error)
    }
    const lease = got.right
    return yield* Effect.gen(function*() {
      const renewed = yield* renewedMeanwhile(working, name)
      if (Option.isSome(renewed)) {
        const { notAfter, serialNumber } = renewed.value.metadata
        yield* skip(
          working,
          name,
          `renewed by another run since this run read it (serial ${serialNumber}, valid until ${notAfter})`,
          { serialNumber, notAfter }
        )
        return Either.right(undefined)
      }
      const outcome = yield* keepingAlive(
        lease,
        yield* leaseTtl,
        Effect.provideService(body, CertificateWrites, storage.fenced(lease))
      ).pipe(Effect.either)
      if (Either.isRight(outcome)) return Either.right(undefined)
      const error = outcome.left
      if (error instanceof LeaseError && error.reason === "Lost") {
        yield* lose(working, name, error)
        return Either.right(undefined)
      }
      // any other failure (a storage error, another run owning this run's checkpoint) ends the run
      return yield* Effect.fail(error as Exclude<E, LeaseError> | LeaseError)
    }).pipe(Effect.ensuring(Effect.ignore(storage.releaseLease(lease))))
  })

/**
 * Runs `run` for each certificate that has work left, each under its lease (see the module). With
 * `wait`, the certificates other runs hold are tried again after the others, until they are let go
 * or `wait` (counted from then) is over.
 *
 * @since 0.1.0
 * @category combinators
 */
export const forEachCertificate = <E, R>(
  working: Ref.Ref<Working>,
  names: ReadonlyArray<CertificateName>,
  wait: Duration.DurationInput | undefined,
  run: (name: CertificateName) => Effect.Effect<void, E | LeaseError, R>
): Effect.Effect<
  void,
  Exclude<E, LeaseError> | StorageError | LeaseError,
  Exclude<R, CertificateWrites> | Storage | RenewalSettings
> =>
  Effect.gen(function*() {
    const held = (name: CertificateName, error: LeaseError, waited: boolean) =>
      Effect.gen(function*() {
        const by = error.holder === undefined ? "another run" : yield* describeHolder(error.holder)
        yield* skip(working, name, `being renewed by ${by}${waited ? "; the wait for it is over" : ""}`)
      })
    const deferred: Array<CertificateName> = []
    for (const name of names) {
      if (!(yield* hasWorkLeft(working, name))) continue
      const outcome = yield* holding(working, name, undefined, run(name))
      if (Either.isLeft(outcome)) {
        if (wait === undefined) yield* held(name, outcome.left, false)
        else deferred.push(name)
      }
    }
    if (wait === undefined || deferred.length === 0) return
    const deadline = DateTime.addDuration(yield* DateTime.now, wait)
    for (const name of deferred) {
      const left = DateTime.distance(yield* DateTime.now, deadline)
      const outcome = yield* holding(working, name, `${Math.max(0, left)} millis`, run(name))
      if (Either.isLeft(outcome)) yield* held(name, outcome.left, true)
    }
  })
