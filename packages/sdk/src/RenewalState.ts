/**
 * The state record of a renewal run: an Effect Schema, serialisable to JSON, saved as a checkpoint
 * after every stage. One bucket per certificate holds everything that certificate's stages need to
 * go on after a crash: its nonce, account URL, order and authorizations, a reference to the new
 * certificate key (never the key), attempts, the next retry time, the last error and the result.
 *
 * @since 0.1.0
 */
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { CertificateName } from "./CertificateName.js"
import { DeployOutcome, PendingDeploy } from "./DeployHook.js"
import { Directory } from "./Directory.js"
import { Identifier } from "./Identifier.js"
import { Nonce } from "./Nonce.js"
import * as Journal from "./internal/checkpointJournal.js"
import { Decision, PlannerOutcome } from "./internal/renewalState/planning.js"

/**
 * The per-certificate stages, in order; `done`, `failed` and `skipped` are where a bucket ends.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Stage = Schema.Literal(
  "account",
  "order",
  "present",
  "verify",
  "csr",
  "finalize",
  "download",
  "store",
  "done",
  "failed",
  "skipped"
)

/**
 * @since 0.1.0
 * @category models
 */
export type Stage = typeof Stage.Type

/**
 * The stages that do work, in the order a bucket goes through them.
 *
 * @since 0.1.0
 * @category models
 */
export const workStages: ReadonlyArray<Stage> = [
  "account",
  "order",
  "present",
  "verify",
  "csr",
  "finalize",
  "download",
  "store"
]

/**
 * @since 0.1.0
 * @category schemas
 */
export const AuthorizationState = Schema.Struct({
  url: Schema.String,
  identifier: Identifier,
  status: Schema.String,
  challengeType: Schema.optional(Schema.String),
  challengeUrl: Schema.optional(Schema.String),
  token: Schema.optional(Schema.String),
  /** the authorization is for a wildcard (its identifier is the base name) */
  wildcard: Schema.optional(Schema.Boolean),
  /** the response is in place (presented and not yet cleaned up) */
  presented: Schema.optionalWith(Schema.Boolean, { default: () => false })
})

/**
 * @since 0.1.0
 * @category models
 */
export type AuthorizationState = typeof AuthorizationState.Type

/**
 * @since 0.1.0
 * @category schemas
 */
export const OrderState = Schema.Struct({
  url: Schema.String,
  status: Schema.String,
  finalize: Schema.String,
  certificate: Schema.optional(Schema.String),
  expires: Schema.optional(Schema.String),
  authorizations: Schema.Array(AuthorizationState),
  /** the ARI CertID sent as `replaces` */
  replaces: Schema.optional(Schema.String),
  /** the CA refused `replaces` and the order was placed without it */
  replacesDropped: Schema.optionalWith(Schema.Boolean, { default: () => false })
})

/**
 * @since 0.1.0
 * @category models
 */
export type OrderState = typeof OrderState.Type

export {
  /** @since 0.1.0 */
  Decision,
  /** @since 0.1.0 */
  Disagreement,
  /** @since 0.1.0 */
  PlannerOutcome
} from "./internal/renewalState/planning.js"

/**
 * What the scan found on disk (and at the CA's renewalInfo) for a certificate.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Current = Schema.Struct({
  serialNumber: Schema.String,
  identifiers: Schema.Array(Identifier),
  keyType: Schema.String,
  profile: Schema.optional(Schema.String),
  notBefore: Schema.String,
  notAfter: Schema.String,
  /** when it was stored (our clock): a renewal window that began before it is about an earlier certificate */
  issuedAt: Schema.optional(Schema.String),
  certId: Schema.optional(Schema.String),
  revokedAt: Schema.optional(Schema.String),
  directoryUrl: Schema.String,
  /** a deploy hook that failed (or never ran) for the certificate in place */
  pendingDeploy: Schema.optional(PendingDeploy),
  renewalInfo: Schema.optional(Schema.Struct({
    start: Schema.String,
    end: Schema.String,
    explanationURL: Schema.optional(Schema.String)
  }))
})

/**
 * @since 0.1.0
 * @category models
 */
export type Current = typeof Current.Type

/**
 * @since 0.1.0
 * @category schemas
 */
export const ErrorRecord = Schema.Struct({
  tag: Schema.String,
  message: Schema.String,
  retryable: Schema.Boolean,
  /** how long the CA asked to wait (its Retry-After), in milliseconds */
  retryAfterMillis: Schema.optional(Schema.Number),
  stage: Stage,
  at: Schema.String
})

/**
 * @since 0.1.0
 * @category models
 */
export type ErrorRecord = typeof ErrorRecord.Type

/**
 * Where a certificate's files are, as reports show them.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Paths = Schema.Struct({
  cert: Schema.String,
  chain: Schema.String,
  fullchain: Schema.String,
  privkey: Schema.String
})

/**
 * @since 0.1.0
 * @category schemas
 */
export const Result = Schema.Struct({
  /** `postponed`: left to the next run (the CA asked to wait longer than allowed, or the run ran out of time) */
  action: Schema.Literal("renewed", "skipped", "failed", "postponed"),
  reason: Schema.String,
  /** for a postponed certificate, when the next attempt may come (the CA's Retry-After), when known */
  notBefore: Schema.optional(Schema.String),
  /** the ARI CertID of the certificate this renewal replaced (sent as `replaces` and accepted) */
  replaced: Schema.optional(Schema.String),
  serialNumber: Schema.optional(Schema.String),
  notAfter: Schema.optional(Schema.String),
  /** whole days until notAfter, when the report was made */
  daysLeft: Schema.optional(Schema.Number),
  paths: Schema.optional(Paths),
  /** its deploy hook, when it failed now or before */
  deploy: Schema.optional(DeployOutcome)
})

/**
 * @since 0.1.0
 * @category models
 */
export type Result = typeof Result.Type

/**
 * Where the new certificate key is: a pending key file written before finalize, or the stored
 * key (`reuseKey`). A reference only: key material never enters the state.
 *
 * @since 0.1.0
 * @category schemas
 */
export const KeyReference = Schema.Union(
  Schema.TaggedStruct("Pending", { reference: Schema.String }),
  Schema.TaggedStruct("Live", {})
)

/**
 * One certificate's part of the run.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Bucket = Schema.Struct({
  name: CertificateName,
  identifiers: Schema.Array(Identifier),
  stage: Stage,
  current: Schema.optional(Current),
  decision: Schema.optional(Decision),
  /** the nonce for this certificate's next signed request */
  nonce: Schema.optional(Nonce),
  accountUrl: Schema.optional(Schema.String),
  order: Schema.optional(OrderState),
  certificateKey: Schema.optional(KeyReference),
  csrPem: Schema.optional(Schema.String),
  /** the downloaded chain (public) between download and store */
  chainPem: Schema.optional(Schema.String),
  attempts: Schema.optionalWith(Schema.Number, { default: () => 0 }),
  retryNotBefore: Schema.optional(Schema.String),
  lastError: Schema.optional(ErrorRecord),
  result: Schema.optional(Result)
})

/**
 * @since 0.1.0
 * @category models
 */
export type Bucket = typeof Bucket.Type

/**
 * @since 0.1.0
 * @category schemas
 */
export const Phase = Schema.Literal("scan", "plan", "renew", "report", "done")

/**
 * @since 0.1.0
 * @category schemas
 */
export const State = Schema.Struct({
  version: Schema.Literal(1),
  runId: Schema.String,
  startedAt: Schema.String,
  directoryUrl: Schema.String,
  options: Schema.Struct({
    force: Schema.Boolean,
    dryRun: Schema.Boolean,
    only: Schema.Array(Schema.String)
  }),
  phase: Phase,
  /** how many times this run was resumed after an interruption */
  resumptions: Schema.optionalWith(Schema.Number, { default: () => 0 }),
  /** when this run (or this resumption of it) must stop: its start plus `renewal.maxRunTime` */
  deadline: Schema.optional(Schema.String),
  /** why the run stopped before every certificate was done (it reached `renewal.maxRunTime`) */
  stopped: Schema.optional(Schema.String),
  directory: Schema.optional(Directory),
  /**
   * what scan last learnt from the CA's directory about renewal info (ARI): when it was read and
   * whether the CA offers it; carried from run to run until it is older than the ARI check interval,
   * so that a run in which no certificate has an ARI request due reads no directory
   */
  directorySeen: Schema.optional(Schema.Struct({ fetchedAt: Schema.String, renewalInfo: Schema.Boolean })),
  /** the certificate whose stages run now */
  current: Schema.optional(CertificateName),
  /** how the plan was made (set by the plan stage) */
  planner: Schema.optional(PlannerOutcome),
  /** in processing order: due certificates in the planner's order (see the plan stage) */
  buckets: Schema.Array(Bucket)
})

/**
 * @since 0.1.0
 * @category models
 */
export type State = typeof State.Type

/**
 * JSON text of a state, for a checkpoint.
 *
 * @since 0.1.0
 * @category combinators
 */
export const encode: (state: State) => string = (state) =>
  JSON.stringify(Schema.encodeSync(State)(state), undefined, 2)

/**
 * The state in a checkpoint's text, or None when it does not decode (an older or damaged file). The
 * text is a whole state (as `encode` gives it), optionally followed by the changes a run appended
 * to it, one per line; a last line cut short by a crash is left out.
 *
 * @since 0.1.0
 * @category combinators
 */
export const decode = (json: string): Option.Option<State> =>
  Option.flatMap(Journal.compose(json), (value) => Option.getRight(Schema.decodeUnknownEither(State)(value)))

/**
 * The bucket of a certificate.
 *
 * @since 0.1.0
 * @category combinators
 */
export const bucket = (state: State, name: CertificateName): Option.Option<Bucket> =>
  Option.fromNullable(state.buckets.find((b) => b.name === name))

/**
 * The state with one bucket changed.
 *
 * @since 0.1.0
 * @category combinators
 */
export const updateBucket = (state: State, name: CertificateName, f: (bucket: Bucket) => Bucket): State => ({
  ...state,
  buckets: state.buckets.map((b) => (b.name === name ? f(b) : b))
})
