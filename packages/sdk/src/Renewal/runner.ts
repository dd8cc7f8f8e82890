/**
 * How `Renewal.renew` runs the stages: the run's memory (the state in a Ref, the checkpoints'
 * encoded buckets), a stage with its crash points, span, progress events and checkpoint, and one
 * certificate's stages with the error handler and the scheduler between attempts.
 *
 * **Only the error handler moves a certificate backwards.** A stage that succeeds must leave its
 * certificate at a later stage than the one that ran (or at an end: done, failed, skipped). When it
 * sends it back (store finding its key gone goes back to order; a stage missing what an earlier one
 * should have left goes back to it) or leaves it where it was, the runner takes that as a failure of
 * the stage (`PipelineError` `StageReentered`, retryable): the error handler counts the attempt and
 * the scheduler waits before the earlier stage runs again. Between two attempts a certificate can
 * therefore only move forward, through at most the eight stages, and attempts are bounded by
 * `renewal.maxAttempts`: no answer of a CA can make the pipeline cycle without waiting.
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import type { AcmeProtocol } from "../AcmeProtocol.js"
import type { CertificateName } from "../CertificateName.js"
import type { ChallengeSolver } from "../ChallengeSolver.js"
import * as CrashPoint from "../CrashPoint.js"
import * as Journal from "../internal/checkpointJournal.js"
import type { RenewalSettings } from "../RenewalSettings.js"
import * as RenewalState from "../RenewalState.js"
import type { LeaseError } from "../Lease.js"
import { type Storage, type StorageError } from "../Storage.js"
import { account } from "./account.js"
import { emit, PipelineError } from "./context.js"
import { csr } from "./csr.js"
import { download } from "./download.js"
import { errorHandler } from "./errorHandler.js"
import { recordError, type StageError } from "./failure.js"
import { finalize } from "./finalize.js"
import * as Leases from "./lease.js"
import { order } from "./order.js"
import { present } from "./present.js"
import { scheduler } from "./scheduler.js"
import type { Stage, Working } from "./stage.js"
import { store } from "./store.js"
import { verify } from "./verify.js"

/** What the stages of a certificate need. */
type Requirements = AcmeProtocol | ChallengeSolver | RenewalSettings | Storage | Leases.CertificateWrites

/**
 * The stages of a certificate by name.
 *
 * @since 0.1.0
 * @category models
 */
export const stages = { account, order, present, verify, csr, finalize, download, store } as const

/**
 * The name of a stage that works on a certificate.
 *
 * @since 0.1.0
 * @category models
 */
export type WorkStage = keyof typeof stages

type State = RenewalState.State

/**
 * What one run keeps in memory, made by `renew` and dropped with it (nothing outlives a call):
 *
 * - the state record as the stages change it, with the parsed chain between download and store
 *   (`Working`; the stages' signed calls keep their nonce and the directory in it, on failure too);
 * - the encoded buckets of its checkpoints, by identity. A stage changes only the current
 *   certificate's bucket and keeps the others as they are (the state is immutable), so each
 *   checkpoint encodes one bucket instead of all of them: without this, a run of N certificates would
 *   spend O(N²) in Schema encoding;
 * - what its checkpoint holds (`saved`): a checkpoint after a stage appends the buckets that changed
 *   (by identity) to the whole state written before, instead of writing all of them again, which
 *   would write O(N²) bytes in a run of N certificates (see `internal/checkpointJournal.ts`); the
 *   first checkpoint of a process and the last of a run are whole.
 *
 * @since 0.1.0
 * @category models
 */
export interface Run {
  readonly working: Ref.Ref<Working>
  readonly encoded: WeakMap<RenewalState.Bucket, string>
  readonly saved: Ref.Ref<Saved | undefined>
}

/** the checkpoint this run wrote last: the buckets it holds and how many bytes were appended */
interface Saved {
  readonly buckets: ReadonlyArray<RenewalState.Bucket>
  readonly wholeLength: number
  readonly appendedLength: number
}

/**
 * Changes are appended until they add up to the whole state's size (at least this many characters),
 * then the whole state is written again: a checkpoint never holds more than about twice its state,
 * and each byte of state is written a bounded number of times.
 */
const appendedAtMost = 64 * 1024

/**
 * @since 0.1.0
 * @category constructors
 */
export const makeRun = (state: State): Effect.Effect<Run> =>
  Effect.zipWith(
    Ref.make<Working>({ state, chain: undefined }),
    Ref.make<Saved | undefined>(undefined),
    (working, saved) => ({ working, encoded: new WeakMap(), saved })
  )

/**
 * @since 0.1.0
 * @category combinators
 */
export const stateOf = (run: Run): Effect.Effect<State> => Effect.map(Ref.get(run.working), (working) => working.state)

/**
 * @since 0.1.0
 * @category combinators
 */
export const updateState = (run: Run, f: (state: State) => State): Effect.Effect<void> =>
  Ref.update(run.working, (working) => ({ ...working, state: f(working.state) }))

const encodeBucket = (run: Run, bucket: RenewalState.Bucket): string => {
  const known = run.encoded.get(bucket)
  if (known !== undefined) return known
  const encoded = JSON.stringify(Schema.encodeSync(RenewalState.Bucket)(bucket))
  run.encoded.set(bucket, encoded)
  return encoded
}

const encodeHead = (state: State): string => {
  const { buckets: _none, ...head } = Schema.encodeSync(RenewalState.State)({ ...state, buckets: [] })
  return JSON.stringify(head)
}

/**
 * The state as checkpoint JSON: the same document `RenewalState.encode` gives (read back by
 * `RenewalState.decode`), written compactly and with each bucket encoded once (see `Run`).
 */
const encodeCheckpoint = (run: Run, state: State): string =>
  `${encodeHead(state).slice(0, -1)},"buckets":[${state.buckets.map((bucket) => encodeBucket(run, bucket)).join(",")}]}`

/**
 * What to save after a stage: the buckets that changed since the last checkpoint as a change to
 * append to it, when this run wrote it and the changes so far stay within the whole state's size;
 * else the whole state.
 */
const nextCheckpoint = (
  run: Run,
  last: Saved | undefined,
  state: State
): { readonly json: string; readonly append: boolean; readonly saved: Saved } => {
  // a finished run's checkpoint is one whole state (what `acme status` and the next run read)
  if (last !== undefined && last.buckets.length === state.buckets.length && state.phase !== "done") {
    const changed: Array<readonly [number, string]> = []
    state.buckets.forEach((bucket, position) => {
      if (bucket !== last.buckets[position]) changed.push([position, encodeBucket(run, bucket)])
    })
    const change = Journal.change(encodeHead(state), changed)
    const appendedLength = last.appendedLength + change.length + 1
    if (appendedLength <= Math.max(last.wholeLength, appendedAtMost)) {
      return { json: change, append: true, saved: { buckets: state.buckets, wholeLength: last.wholeLength, appendedLength } }
    }
  }
  const json = encodeCheckpoint(run, state)
  return { json, append: false, saved: { buckets: state.buckets, wholeLength: json.length, appendedLength: 0 } }
}

/**
 * Saves the state as a checkpoint (not in a dry run, which changes nothing). Never interrupted
 * half-way (the run's time budget interrupts the work around it, not a write). After a failed save
 * the next one writes the whole state (an append may have left part of a change behind).
 *
 * @since 0.1.0
 * @category combinators
 */
export const checkpoint = (run: Run): Effect.Effect<void, StorageError | LeaseError, Storage> =>
  Effect.gen(function*() {
    const state = yield* stateOf(run)
    if (state.options.dryRun) return
    const next = nextCheckpoint(run, yield* Ref.get(run.saved), state)
    yield* Leases.saveCheckpoint(state.runId, next.json, next.append).pipe(
      Effect.onExit((exit) => Ref.set(run.saved, Exit.isSuccess(exit) ? next.saved : undefined))
    )
  }).pipe(Effect.uninterruptible)

/**
 * @since 0.1.0
 * @category guards
 */
export const isWorkStage = (stage: RenewalState.Stage): stage is WorkStage => stage in stages

/**
 * Runs one stage on the run's state: crash points around it, a span, progress events, and the
 * checkpoint after it.
 *
 * @since 0.1.0
 * @category combinators
 */
export const runStage = <E, R>(
  run: Run,
  name: string,
  stage: Stage<E, R>
): Effect.Effect<void, E | StorageError | LeaseError, R | Storage> =>
  Effect.gen(function*() {
    const state = yield* stateOf(run)
    const certificate = state.current ?? "*"
    const bucket = state.current === undefined ? Option.none() : RenewalState.bucket(state, state.current)
    yield* CrashPoint.reach(`before:${name}`)
    yield* emit({ _tag: "StageStarted", certificate, stage: name })
    yield* stage.runOn(run.working).pipe(
      Effect.withSpan(`Renewal.${name}`, {
        attributes: {
          "acme.certificate": certificate,
          "acme.stage": name,
          // 1 for the first try of the certificate's current stage, 2 after one failed attempt, ...
          "acme.attempt": Option.match(bucket, { onNone: () => 1, onSome: (b) => b.attempts + 1 }),
          "acme.directory": state.directoryUrl
        }
      })
    )
    yield* CrashPoint.reach(`done:${name}`)
    yield* checkpoint(run)
    yield* CrashPoint.reach(`after:${name}`)
    yield* emit({ _tag: "StageFinished", certificate, stage: name })
  })

/**
 * The stage a certificate is at, when it has work left.
 *
 * @since 0.1.0
 * @category combinators
 */
export const workLeft = (run: Run, name: CertificateName): Effect.Effect<Option.Option<WorkStage>> =>
  Effect.map(stateOf(run), (state) =>
    Option.filter(
      Option.map(RenewalState.bucket(state, name), (bucket) => bucket.stage),
      isWorkStage
    ))

/** The failure of a stage that succeeded but did not move its certificate forward. */
const reentered = (name: string, ran: WorkStage, next: WorkStage): PipelineError =>
  new PipelineError({
    reason: "StageReentered",
    certificate: name,
    description: next === ran
      ? `the ${ran} stage ended without moving on; it runs again after a wait, as a new attempt`
      : `the ${ran} stage sent the certificate back to ${next}; that runs again after a wait, as a new attempt`
  })

/**
 * The stage's failure, if it failed or did not move its certificate forward (see the module's
 * description).
 */
const outcomeOf = <R>(
  run: Run,
  name: CertificateName,
  ran: WorkStage,
  attempt: Effect.Effect<void, StageError | LeaseError, R>
): Effect.Effect<Option.Option<StageError>, LeaseError, R> =>
  Effect.gen(function*() {
    // a lost lease ends the certificate at once (Renewal/lease.ts), every other failure is handled
    const result = yield* Leases.attempt(attempt)
    if (result._tag === "Left") return Option.some(result.left)
    const next = yield* workLeft(run, name)
    return Option.isSome(next) && RenewalState.workStages.indexOf(next.value) <= RenewalState.workStages.indexOf(ran)
      ? Option.some<StageError>(reentered(name, ran, next.value))
      : Option.none()
  })

/**
 * All stages of one certificate, with the error handler and the scheduler between attempts. A
 * failed stage's error is recorded in the state it left (with the nonce of its failed call); when
 * only the checkpoint after it failed, that state already holds the stage's work.
 *
 * @since 0.1.0
 * @category combinators
 */
export const runCertificate = (
  run: Run,
  name: CertificateName
): Effect.Effect<void, StorageError | LeaseError, Requirements> =>
  Effect.gen(function*() {
    yield* updateState(run, (state) => ({ ...state, current: name }))
    for (;;) {
      const stage = yield* workLeft(run, name)
      if (Option.isNone(stage)) return
      const failure = yield* outcomeOf(
        run,
        name,
        stage.value,
        runStage<StageError | LeaseError, Requirements>(run, stage.value, stages[stage.value])
      )
      if (Option.isNone(failure)) continue
      const at = DateTime.formatIso(yield* DateTime.now)
      yield* updateState(run, (state) => recordError(state, failure.value, stage.value, at))
      yield* runStage(run, "errorHandler", errorHandler)
      if (Option.isNone(yield* workLeft(run, name))) return
      yield* runStage(run, "scheduler", scheduler)
    }
  })
