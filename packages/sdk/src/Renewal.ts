/**
 * The renewal pipeline: a sequential program over an explicit, checkpointed state record.
 *
 * ```
 * scan -> plan -> for each certificate due, one at a time:
 *    account -> order -> present -> verify -> csr -> finalize -> download -> store
 *    -> (error?) errorHandler -> scheduler -> back to the stage that failed, or give up for it
 * -> report
 * ```
 *
 * Every stage is a named function `State -> Effect<State>` in `Renewal/<stage>.ts`, and every
 * network call happens inside one. The state is saved after every stage; an interrupted run is
 * resumed by the next `renew` (each certificate starts again with a fresh nonce, and at `present`
 * if it was answering challenges), and a run after success creates no order.
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import type { AcmeProtocol } from "./AcmeProtocol.js"
import type { CertificateName } from "./CertificateName.js"
import type { ChallengeSolver } from "./ChallengeSolver.js"
import * as CrashPoint from "./CrashPoint.js"
import type { Planner } from "./Planner.js"
import { account } from "./Renewal/account.js"
import { emit, newRunId } from "./Renewal/context.js"
import { csr } from "./Renewal/csr.js"
import { download } from "./Renewal/download.js"
import { errorHandler } from "./Renewal/errorHandler.js"
import { recordError, type StageError } from "./Renewal/failure.js"
import { finalize } from "./Renewal/finalize.js"
import { order } from "./Renewal/order.js"
import { plan } from "./Renewal/plan.js"
import { present } from "./Renewal/present.js"
import { report } from "./Renewal/report.js"
import { scan } from "./Renewal/scan.js"
import { scheduler } from "./Renewal/scheduler.js"
import type { Stage, Working } from "./Renewal/stage.js"
import { store } from "./Renewal/store.js"
import { verify } from "./Renewal/verify.js"
import { directoryUrl as configuredDirectoryUrl, type RenewalSettings } from "./RenewalSettings.js"
import * as RenewalState from "./RenewalState.js"
import type { Reporter, RunReport } from "./Reporter.js"
import { Storage, type StorageError } from "./Storage.js"

export {
  /** @since 0.1.0 */
  account,
  /** @since 0.1.0 */
  csr,
  /** @since 0.1.0 */
  download,
  /** @since 0.1.0 */
  errorHandler,
  /** @since 0.1.0 */
  finalize,
  /** @since 0.1.0 */
  order,
  /** @since 0.1.0 */
  plan,
  /** @since 0.1.0 */
  present,
  /** @since 0.1.0 */
  report,
  /** @since 0.1.0 */
  scan,
  /** @since 0.1.0 */
  scheduler,
  /** @since 0.1.0 */
  store,
  /** @since 0.1.0 */
  verify
}

export {
  /** @since 0.1.0 */
  PipelineError,
  /** @since 0.1.0 */
  Progress,
  /** @since 0.1.0 */
  type ProgressEvent
} from "./Renewal/context.js"

export {
  /** @since 0.1.0 */
  type StageError
} from "./Renewal/failure.js"

export {
  /** @since 0.1.0 */
  type Changes,
  /** @since 0.1.0 */
  type Stage,
  /** @since 0.1.0 */
  type Step,
  /** @since 0.1.0 */
  type Working
} from "./Renewal/stage.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** renew every selected certificate now, whatever the plan says */
  readonly force?: boolean | undefined
  /** scan and plan only: say what would happen, change nothing */
  readonly dryRun?: boolean | undefined
  /** only these certificates (by name) */
  readonly only?: ReadonlyArray<string> | undefined
}

/**
 * Everything the pipeline needs.
 *
 * @since 0.1.0
 * @category models
 */
export type Requirements =
  | AcmeProtocol
  | Storage
  | Planner
  | ChallengeSolver
  | Reporter
  | RenewalSettings

/**
 * The stages of a certificate by name.
 *
 * @since 0.1.0
 * @category models
 */
export const stages = { account, order, present, verify, csr, finalize, download, store } as const

type State = RenewalState.State

/**
 * What one run keeps in memory, made by `renew` and dropped with it (nothing outlives a call):
 *
 * - the state record as the stages change it, with the parsed chain between download and store
 *   (`Working`; the stages' signed calls keep their nonce and the directory in it, on failure too);
 * - the encoded buckets of its checkpoints, by identity. A stage changes only the current
 *   certificate's bucket and keeps the others as they are (the state is immutable), so each
 *   checkpoint encodes one bucket instead of all of them: without this, a run of N certificates would
 *   spend O(N²) in Schema encoding.
 */
interface Run {
  readonly working: Ref.Ref<Working>
  readonly encoded: WeakMap<RenewalState.Bucket, string>
}

const stateOf = (run: Run): Effect.Effect<State> => Effect.map(Ref.get(run.working), (working) => working.state)

const updateState = (run: Run, f: (state: State) => State): Effect.Effect<void> =>
  Ref.update(run.working, (working) => ({ ...working, state: f(working.state) }))

const encodeBucket = (run: Run, bucket: RenewalState.Bucket): string => {
  const known = run.encoded.get(bucket)
  if (known !== undefined) return known
  const encoded = JSON.stringify(Schema.encodeSync(RenewalState.Bucket)(bucket))
  run.encoded.set(bucket, encoded)
  return encoded
}

/**
 * The state as checkpoint JSON: the same document `RenewalState.encode` gives (read back by
 * `RenewalState.decode`), written compactly and with each bucket encoded once (see `Run`).
 */
const encodeCheckpoint = (run: Run, state: State): string => {
  const { buckets: _none, ...head } = Schema.encodeSync(RenewalState.State)({ ...state, buckets: [] })
  const text = JSON.stringify(head)
  return `${text.slice(0, -1)},"buckets":[${state.buckets.map((bucket) => encodeBucket(run, bucket)).join(",")}]}`
}

/** Saves the state as a checkpoint (not in a dry run, which changes nothing). */
const checkpoint = (run: Run): Effect.Effect<void, StorageError, Storage> =>
  Effect.flatMap(stateOf(run), (state) =>
    state.options.dryRun
      ? Effect.void
      : Effect.flatMap(Storage, (storage) => storage.saveCheckpoint(state.runId, encodeCheckpoint(run, state))))

/**
 * Hands the nonce a finished certificate did not use to the next one, so that only the first
 * certificate of a run needs a newNonce request. A nonce is used once either way: it leaves the
 * finished bucket as it enters the next, and a bucket that has its own nonce keeps it.
 */
const handOverNonce = (state: State, from: CertificateName | undefined, to: CertificateName): State => {
  if (from === undefined) return state
  const previous = RenewalState.bucket(state, from)
  const next = RenewalState.bucket(state, to)
  if (Option.isNone(previous) || Option.isNone(next)) return state
  const nonce = previous.value.nonce
  if (nonce === undefined || next.value.nonce !== undefined || isWorkStage(previous.value.stage)) return state
  const taken = RenewalState.updateBucket(state, from, (bucket) => ({ ...bucket, nonce: undefined }))
  return RenewalState.updateBucket(taken, to, (bucket) => ({ ...bucket, nonce }))
}

/** An unfinished run of this CA to pick up again, ready to go on. */
const resumable = (directoryUrl: string): Effect.Effect<Option.Option<State>, StorageError, Storage> =>
  Effect.gen(function*() {
    const storage = yield* Storage
    const checkpoints = yield* storage.loadCheckpoints
    for (const { json } of [...checkpoints].reverse()) {
      const state = RenewalState.decode(json)
      if (Option.isNone(state)) continue
      if (state.value.phase === "done" || state.value.options.dryRun) return Option.none()
      if (state.value.directoryUrl !== directoryUrl) return Option.none()
      return state
    }
    return Option.none()
  })

/**
 * The state to run: an unfinished run picked up again, or a new one.
 *
 * A resumed run keeps its buckets; each forgets its nonce (the next request starts with a fresh
 * one), a certificate that was answering challenges starts again at `present` (the responses went
 * away with the process), and the directory is fetched again, once, by the first stage that needs it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const start = (options: Options): Effect.Effect<State, StorageError, Storage | RenewalSettings> =>
  Effect.gen(function*() {
    const directoryUrl = yield* configuredDirectoryUrl
    const fresh: State = {
      version: 1,
      runId: yield* newRunId,
      startedAt: DateTime.formatIso(yield* DateTime.now),
      directoryUrl,
      options: { force: options.force ?? false, dryRun: options.dryRun ?? false, only: options.only ?? [] },
      phase: "scan",
      resumptions: 0,
      buckets: []
    }
    if (fresh.options.dryRun) return fresh
    const previous = yield* resumable(directoryUrl)
    if (Option.isNone(previous)) return fresh
    const old = previous.value
    if (old.phase === "scan" || old.phase === "plan") {
      // nothing was done for any certificate yet: start over under the same run id
      return { ...fresh, runId: old.runId, resumptions: old.resumptions + 1 }
    }
    return {
      ...old,
      resumptions: old.resumptions + 1,
      directory: undefined,
      current: undefined,
      buckets: old.buckets.map((bucket) => ({
        ...bucket,
        nonce: undefined,
        retryNotBefore: undefined,
        stage: bucket.stage === "verify" ? "present" as const : bucket.stage
      }))
    }
  })

const isWorkStage = (stage: RenewalState.Stage): stage is keyof typeof stages => stage in stages

/**
 * Runs one stage on the run's state: crash points around it, a span, progress events, and the
 * checkpoint after it.
 */
const runStage = <E, R>(run: Run, name: string, stage: Stage<E, R>): Effect.Effect<void, E | StorageError, R | Storage> =>
  Effect.gen(function*() {
    const certificate = (yield* stateOf(run)).current ?? "*"
    yield* CrashPoint.reach(`before:${name}`)
    yield* emit({ _tag: "StageStarted", certificate, stage: name })
    yield* stage.runOn(run.working).pipe(
      Effect.withSpan(`Renewal.${name}`, { attributes: { "acme.certificate": certificate } })
    )
    yield* CrashPoint.reach(`done:${name}`)
    yield* checkpoint(run)
    yield* CrashPoint.reach(`after:${name}`)
    yield* emit({ _tag: "StageFinished", certificate, stage: name })
  })

/** The stage a certificate is at, when it has work left. */
const workLeft = (run: Run, name: CertificateName): Effect.Effect<Option.Option<keyof typeof stages>> =>
  Effect.map(stateOf(run), (state) =>
    Option.filter(
      Option.map(RenewalState.bucket(state, name), (bucket) => bucket.stage),
      isWorkStage
    ))

/**
 * All stages of one certificate, with the error handler and the scheduler between attempts. A
 * failed stage's error is recorded in the state it left (with the nonce of its failed call); when
 * only the checkpoint after it failed, that state already holds the stage's work.
 */
const runCertificate = (
  run: Run,
  name: CertificateName
): Effect.Effect<void, StorageError, Exclude<Requirements, Planner | Reporter>> =>
  Effect.gen(function*() {
    yield* updateState(run, (state) => ({ ...state, current: name }))
    for (;;) {
      const stage = yield* workLeft(run, name)
      if (Option.isNone(stage)) return
      const attempt = yield* Effect.either(runStage(run, stage.value, stages[stage.value]))
      if (attempt._tag === "Right") continue
      const failure: StageError = attempt.left
      const at = DateTime.formatIso(yield* DateTime.now)
      yield* updateState(run, (state) => recordError(state, failure, stage.value, at))
      yield* runStage(run, "errorHandler", errorHandler)
      if (Option.isNone(yield* workLeft(run, name))) return
      yield* runStage(run, "scheduler", scheduler)
    }
  })

/**
 * The renewal program: scan, plan, renew each certificate due, report. Resumes an unfinished run
 * of the same CA first, on its own.
 *
 * @since 0.1.0
 * @category programs
 */
export const renew = (
  options: Options = {}
): Effect.Effect<RunReport, StorageError, Requirements> =>
  Effect.gen(function*() {
    const initial = yield* start(options)
    const run: Run = { working: yield* Ref.make<Working>({ state: initial, chain: undefined }), encoded: new WeakMap() }
    yield* emit({ _tag: "RunStarted", runId: initial.runId, resumed: initial.resumptions > 0 })
    if (initial.resumptions > 0) {
      yield* Effect.logInfo(`resuming run ${initial.runId}, which was interrupted`)
    }
    if ((yield* stateOf(run)).phase === "scan") yield* runStage(run, "scan", scan)
    if ((yield* stateOf(run)).phase === "plan") yield* runStage(run, "plan", plan)
    const planned = yield* stateOf(run)
    if (planned.phase === "renew") {
      // the last certificate that finished with a nonce it did not use
      let previous: CertificateName | undefined
      for (const { name } of planned.buckets) {
        yield* updateState(run, (state) => handOverNonce(state, previous, name))
        yield* runCertificate(run, name)
        if (Option.exists(RenewalState.bucket(yield* stateOf(run), name), (b) => b.nonce !== undefined)) previous = name
      }
      yield* updateState(run, (state) => ({ ...state, phase: "report", current: undefined }))
      yield* checkpoint(run)
    }
    const [summary, done] = yield* report(yield* stateOf(run))
    yield* Ref.set(run.working, { state: done, chain: undefined })
    yield* checkpoint(run)
    if (!done.options.dryRun) {
      yield* Effect.flatMap(Storage, (storage) => storage.pruneCheckpoints(20)).pipe(
        Effect.catchAll((error) => Effect.logWarning(error.message))
      )
    }
    return summary
  }).pipe(Effect.withSpan("Renewal.renew"))
