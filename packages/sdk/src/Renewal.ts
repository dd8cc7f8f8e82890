/**
 * The renewal pipeline: a sequential program over an explicit, checkpointed state record.
 *
 * ```
 * scan -> plan -> deploy (the hooks still owed by certificates not due) -> for each certificate due, one at a time:
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
 * Several runs may share a storage: a run works on a certificate only while it holds its lease,
 * and never resumes a run that is still going on (`Renewal/lease.ts`, `Renewal/resume.ts`).
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Duration from "effect/Duration"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import type { AcmeProtocol } from "./AcmeProtocol.js"
import type { CertificateName } from "./CertificateName.js"
import type { ChallengeSolver } from "./ChallengeSolver.js"
import type { Planner } from "./Planner.js"
import { account } from "./Renewal/account.js"
import { emit, newRunId } from "./Renewal/context.js"
import { csr } from "./Renewal/csr.js"
import { redeploy } from "./Renewal/deploy.js"
import { download } from "./Renewal/download.js"
import { errorHandler } from "./Renewal/errorHandler.js"
import { finalize } from "./Renewal/finalize.js"
import * as Leases from "./Renewal/lease.js"
import { order } from "./Renewal/order.js"
import * as EarlierRuns from "./Renewal/earlierRuns.js"
import { plan } from "./Renewal/plan.js"
import { present } from "./Renewal/present.js"
import { report } from "./Renewal/report.js"
import * as Resume from "./Renewal/resume.js"
import {
  checkpoint,
  isWorkStage,
  makeRun,
  type Run,
  runCertificate,
  runStage,
  stateOf,
  updateState
} from "./Renewal/runner.js"
import { scan } from "./Renewal/scan.js"
import { scheduler } from "./Renewal/scheduler.js"
import { store } from "./Renewal/store.js"
import { verify } from "./Renewal/verify.js"
import { directoryUrl as configuredDirectoryUrl, RenewalSettings } from "./RenewalSettings.js"
import * as RenewalState from "./RenewalState.js"
import type { LeaseError } from "./Lease.js"
import { Reporter, type RunReport } from "./Reporter.js"
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
  redeploy,
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
  CertificateWrites
} from "./Renewal/lease.js"

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
  /**
   * wait this long for the certificates other runs hold (until they let them go), instead of
   * leaving them to those runs
   */
  readonly wait?: Duration.DurationInput | undefined
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

export {
  /** @since 0.1.0 */
  stages
} from "./Renewal/runner.js"

type State = RenewalState.State

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

/**
 * The state to run: an unfinished run picked up again, or a new one.
 *
 * A resumed run keeps its buckets; each forgets its nonce (the next request starts with a fresh
 * one), a certificate that was answering challenges starts again at `present` (the responses went
 * away with the process), and the directory is fetched again, once, by the first stage that needs it.
 * Only a run that is not going on elsewhere is resumed, and the run's own lease is held until the
 * scope closes (see `Renewal/resume.ts`); a dry run takes none. `listed`: the checkpoints as the
 * storage lists them, when the caller has them already (read here otherwise).
 *
 * @since 0.1.0
 * @category constructors
 */
export const start = (
  options: Options,
  listed?: EarlierRuns.Listed
): Effect.Effect<State, StorageError, Storage | RenewalSettings | Scope.Scope> =>
  Effect.gen(function*() {
    const directoryUrl = yield* configuredDirectoryUrl
    const now = yield* DateTime.now
    const { maxRunTime } = (yield* RenewalSettings).config.renewal
    const fresh: State = {
      version: 1,
      runId: yield* newRunId,
      startedAt: DateTime.formatIso(now),
      deadline: DateTime.formatIso(DateTime.addDuration(now, maxRunTime)),
      directoryUrl,
      options: { force: options.force ?? false, dryRun: options.dryRun ?? false, only: options.only ?? [] },
      phase: "scan",
      resumptions: 0,
      buckets: []
    }
    if (fresh.options.dryRun) return fresh
    const previous = yield* Resume.claim(directoryUrl, fresh.runId, listed)
    if (Option.isNone(previous)) return fresh
    const old = previous.value
    if (old.phase === "scan" || old.phase === "plan") {
      // nothing was done for any certificate yet: start over under the same run id
      return { ...fresh, runId: old.runId, resumptions: old.resumptions + 1 }
    }
    return {
      ...old,
      resumptions: old.resumptions + 1,
      deadline: fresh.deadline,
      stopped: undefined,
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

/** Scan, plan, and every certificate due, one after the other, up to the report. */
const work = (run: Run, wait: Duration.DurationInput | undefined): Effect.Effect<void, StorageError | LeaseError, Requirements> =>
  Effect.gen(function*() {
    if ((yield* stateOf(run)).phase === "scan") yield* runStage(run, "scan", scan)
    if ((yield* stateOf(run)).phase === "plan") yield* runStage(run, "plan", plan)
    if ((yield* stateOf(run)).phase === "renew") {
      // the deploy hooks that certificates not due still owe (they failed before): the hook alone
      yield* runStage(run, "deploy", redeploy)
    }
    const planned = yield* stateOf(run)
    if (planned.phase !== "renew") return
    // the last certificate that finished with a nonce it did not use
    let previous: CertificateName | undefined
    yield* Leases.forEachCertificate(run.working, planned.buckets.map((b) => b.name), wait, (name) =>
      Effect.gen(function*() {
        yield* updateState(run, (state) => handOverNonce(state, previous, name))
        yield* runCertificate(run, name)
        if (Option.exists(RenewalState.bucket(yield* stateOf(run), name), (b) => b.nonce !== undefined)) previous = name
      }))
    yield* updateState(run, (state) => ({ ...state, phase: "report", current: undefined }))
    yield* checkpoint(run)
  })

/**
 * The run reached `renewal.maxRunTime`: every certificate with work left is postponed (its bucket
 * stays at its stage, so that the next run goes on from there) and the run says why it stopped.
 */
const stop = (state: State, budget: Duration.Duration): State => {
  const limit = `renewal.maxRunTime (${Duration.format(budget)})`
  return {
    ...state,
    current: undefined,
    stopped: `the run reached its time budget, ${limit}; the next run goes on where it stopped`,
    buckets: state.buckets.map((bucket) =>
      isWorkStage(bucket.stage)
        ? {
          ...bucket,
          result: {
            action: "postponed",
            reason: bucket.name === state.current
              ? `the run reached ${limit} in the ${bucket.stage} stage; the next run goes on from there`
              : `not reached within ${limit}; the next run goes on with it`
          }
        }
        : bucket
    )
  }
}

/**
 * The renewal program: scan, plan, renew each certificate due, report. Resumes an unfinished run
 * of the same CA first, on its own.
 *
 * The whole run is bounded by `renewal.maxRunTime`: when it is reached, the work in progress is
 * interrupted (challenge responses are cleaned up), the state is checkpointed as it is, so that
 * the next run resumes it, and the report lists every certificate left as postponed (exit 1).
 *
 * @since 0.1.0
 * @category programs
 */
export const renew = (
  options: Options = {}
): Effect.Effect<RunReport, StorageError | LeaseError, Requirements> =>
  Effect.gen(function*() {
    // listed once: for the run to resume, then for what scan and plan look back at
    const listed = yield* Effect.flatMap(Storage, (storage) => storage.loadCheckpoints)
    const initial = yield* start(options, listed)
    const run = yield* makeRun(initial)
    yield* Effect.annotateCurrentSpan({
      "acme.run": initial.runId,
      "acme.directory": initial.directoryUrl,
      "acme.resumptions": initial.resumptions,
      "acme.force": initial.options.force
    })
    yield* emit({
      _tag: "RunStarted",
      runId: initial.runId,
      resumed: initial.resumptions > 0,
      directoryUrl: initial.directoryUrl
    })
    if (initial.resumptions > 0) {
      yield* Effect.logInfo(`resuming run ${initial.runId}, which was interrupted`)
    }
    const budget = (yield* RenewalSettings).config.renewal.maxRunTime
    const finished = yield* Effect.timeoutOption(
      work(run, options.wait).pipe(Effect.provideService(EarlierRuns.EarlierRuns, listed)),
      budget
    )
    if (Option.isNone(finished)) {
      yield* updateState(run, (state) => stop(state, budget))
      yield* checkpoint(run)
      const stopped = yield* stateOf(run)
      yield* Effect.logWarning(stopped.stopped ?? "")
      return yield* Effect.flatMap(Reporter, (reporter) => reporter.summarize(stopped))
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
  }).pipe(Effect.scoped, Effect.withSpan("Renewal.renew"))
