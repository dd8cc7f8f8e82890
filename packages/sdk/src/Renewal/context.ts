/**
 * What every stage of the renewal pipeline shares: progress events, the pipeline's own error, and
 * small helpers to read and change the current certificate's bucket. Nothing here talks to the
 * network; signed calls go through `Renewal/stage.ts`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Schema from "effect/Schema"
import * as CertificateName from "../CertificateName.js"
import type { CertificateSpec } from "../RenewalConfig.js"
import { RenewalSettings } from "../RenewalSettings.js"
import type { Bucket, State } from "../RenewalState.js"
import * as RenewalState from "../RenewalState.js"
import { Storage, type StorageError } from "../Storage.js"

/**
 * Progress of a run, for a terminal or a log. Never carries key material.
 *
 * @since 0.1.0
 * @category models
 */
export type ProgressEvent =
  | {
    readonly _tag: "RunStarted"
    readonly runId: string
    readonly resumed: boolean
    /** the CA's directory URL (a preset in the configuration, resolved) */
    readonly directoryUrl: string
  }
  | { readonly _tag: "StageStarted"; readonly certificate: string; readonly stage: string }
  | { readonly _tag: "StageFinished"; readonly certificate: string; readonly stage: string }
  | {
    readonly _tag: "Retrying"
    readonly certificate: string
    readonly stage: string
    readonly attempt: number
    readonly waitMillis: number
    readonly error: string
  }
  | { readonly _tag: "CertificateFinished"; readonly certificate: string; readonly action: string; readonly reason: string }

/**
 * Where progress events go; nowhere by default.
 *
 * @since 0.1.0
 * @category tags
 */
export class Progress extends Context.Reference<Progress>()("@acme/sdk/Renewal/Progress", {
  defaultValue: () => ({ emit: (_event: ProgressEvent): Effect.Effect<void> => Effect.void })
}) {}

/**
 * @since 0.1.0
 * @category combinators
 */
export const emit = (event: ProgressEvent): Effect.Effect<void> => Effect.flatMap(Progress, (p) => p.emit(event))

/**
 * A failure of the pipeline itself (not of the CA, the storage or a challenge). `StageReentered`:
 * a stage succeeded without moving its certificate forward (see `Renewal/runner.ts`): retryable, as
 * a new attempt after a wait.
 *
 * @since 0.1.0
 * @category errors
 */
export class PipelineError extends Schema.TaggedError<PipelineError>("@acme/sdk/Renewal/PipelineError")("PipelineError", {
  reason: Schema.Literal(
    "ProfileUnavailable",
    "KeyMissing",
    "CertificateMismatch",
    "NotConfigured",
    "AccountMissing",
    "StageReentered",
    "AccountDeactivated"
  ),
  certificate: Schema.String,
  description: Schema.String
}) {
  override get message(): string {
    return `${this.certificate}: ${this.description}`
  }
}

/**
 * The bucket of the certificate the stages work on now.
 *
 * @since 0.1.0
 * @category combinators
 */
export const currentBucket = (state: State): Bucket => {
  const found = state.buckets.find((bucket) => bucket.name === state.current)
  // the runner sets `current` to an existing bucket before running a stage; an empty bucket
  // would only show up in a misuse of a single stage function
  return found ?? { name: state.current ?? CertificateName.make("unknown"), identifiers: [], stage: "failed", attempts: 0 }
}

/**
 * The state with the current bucket changed.
 *
 * @since 0.1.0
 * @category combinators
 */
export const updateCurrent = (state: State, f: (bucket: Bucket) => Bucket): State =>
  state.current === undefined ? state : RenewalState.updateBucket(state, state.current, f)

/**
 * The configured certificate of the current bucket.
 *
 * @since 0.1.0
 * @category combinators
 */
export const currentSpec = (state: State): Effect.Effect<CertificateSpec, PipelineError, RenewalSettings> =>
  Effect.flatMap(RenewalSettings, (settings) => {
    const spec = settings.config.certificates.find((c) => c.name === state.current)
    return spec !== undefined ? Effect.succeed(spec) : Effect.fail(
      new PipelineError({
        reason: "NotConfigured",
        certificate: state.current ?? "",
        description: "is no longer in the configuration"
      })
    )
  })

const accountMissing = (state: State) =>
  new PipelineError({
    reason: "AccountMissing",
    certificate: state.current ?? "",
    description: "no account is set up for this run; the account stage must run first"
  })

/**
 * The URL of the account the current certificate's stages sign with (set by the account stage).
 *
 * @since 0.1.0
 * @category combinators
 */
export const accountUrlOf = (state: State): Effect.Effect<string, PipelineError> => {
  const url = currentBucket(state).accountUrl
  return url === undefined ? Effect.fail(accountMissing(state)) : Effect.succeed(url)
}

/**
 * The account key's PEM as stored now, read at the moment of use (a key rolled over meanwhile is
 * the one read); it never enters the state. `Renewal/stage.ts` imports it (once per run).
 *
 * @since 0.1.0
 * @category combinators
 */
export const storedAccountPem = (
  state: State
): Effect.Effect<string, PipelineError | StorageError, Storage | RenewalSettings> =>
  Effect.gen(function*() {
    const settings = yield* RenewalSettings
    const storage = yield* Storage
    const stored = yield* storage.loadAccount(state.directoryUrl, settings.config.account.name)
    if (Option.isNone(stored)) return yield* accountMissing(state)
    return stored.value.keyPem
  })

/**
 * A new run id: the start time, sortable, and a random suffix (`2026-11-23T14-00-00.000Z-x7k2`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const newRunId: Effect.Effect<string> = Effect.gen(function*() {
  const now = yield* DateTime.now
  const suffix = (yield* Random.nextIntBetween(0, 36 ** 4)).toString(36).padStart(4, "0")
  return `${DateTime.formatIso(now).replace(/:/g, "-")}-${suffix}`
})

/**
 * Now, as ISO text for the state record.
 *
 * @since 0.1.0
 * @category combinators
 */
export const nowIso: Effect.Effect<string> = Effect.map(DateTime.now, DateTime.formatIso)
