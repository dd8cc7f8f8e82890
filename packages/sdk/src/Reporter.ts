/**
 * The summary of a run: per certificate what happened and why. The CLI prints it as text or, with
 * `--json`, as this document. Deterministic by default; other Reporters (an LLM's prose summary, in
 * `@acme/ai`) only add to it: the `summary` field, never a change to what the report says happened.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { DeployOutcome } from "./DeployHook.js"
import { Paths, PlannerOutcome, type State, workStages } from "./RenewalState.js"

/**
 * @since 0.1.0
 * @category schemas
 */
export const CertificateReport = Schema.Struct({
  name: Schema.String,
  domains: Schema.Array(Schema.String),
  /** `postponed`: left to the next run; the run exits 1 all the same */
  action: Schema.Literal("renewed", "skipped", "failed", "revoked", "postponed"),
  reason: Schema.String,
  /** for a postponed certificate, when the next attempt may come (the time the CA gave), when known */
  notBefore: Schema.optional(Schema.String),
  /** for a renewal, the ARI CertID of the certificate it replaced: the order carried `replaces` (RFC 9773 §5) */
  replaced: Schema.optional(Schema.String),
  serial: Schema.optional(Schema.String),
  notAfter: Schema.optional(Schema.String),
  /** whole days until notAfter */
  daysLeft: Schema.optional(Schema.Number),
  /** the files in place (renewed, or left alone) */
  paths: Schema.optional(Paths),
  /** a deploy hook that failed (pending: the next run runs it again), or that failed before and now succeeded */
  deploy: Schema.optional(DeployOutcome),
  attempts: Schema.optional(Schema.Number),
  /** an advisory planner's note on this certificate (never what decided) */
  explanation: Schema.optional(Schema.String),
  error: Schema.optional(Schema.Struct({ type: Schema.String, message: Schema.String, stage: Schema.String }))
})

/**
 * @since 0.1.0
 * @category models
 */
export type CertificateReport = typeof CertificateReport.Type

/**
 * @since 0.1.0
 * @category schemas
 */
export const RunReport = Schema.Struct({
  version: Schema.Literal(1),
  command: Schema.Literal("renew", "revoke"),
  runId: Schema.String,
  directoryUrl: Schema.String,
  resumed: Schema.Boolean,
  dryRun: Schema.Boolean,
  /** how the plan was made: the planner, and what the guards in front of an LLM planner did */
  planner: Schema.optional(PlannerOutcome),
  certificates: Schema.Array(CertificateReport),
  /** why the run stopped before every certificate was done (its time budget, `renewal.maxRunTime`); the next run goes on */
  stopped: Schema.optional(Schema.String),
  /** how many certificates ended each way */
  counts: Schema.optional(Schema.Struct({
    renewed: Schema.Number,
    skipped: Schema.Number,
    failed: Schema.Number,
    revoked: Schema.Number
  })),
  /** the run was interrupted (SIGTERM, Ctrl-C): the report says what was done until then */
  interrupted: Schema.optional(Schema.Boolean),
  /** a prose summary by an LLM reporter, when one is configured and answered; advisory */
  summary: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export type RunReport = typeof RunReport.Type

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly summarize: (state: State) => Effect.Effect<RunReport>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Reporter extends Context.Tag("@acme/sdk/Reporter")<Reporter, Service>() {}

/**
 * The report of a renewal state, as it is.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromState = (state: State): RunReport => withCounts({
  version: 1,
  command: "renew",
  runId: state.runId,
  directoryUrl: state.directoryUrl,
  resumed: state.resumptions > 0,
  dryRun: state.options.dryRun,
  planner: state.planner,
  stopped: state.stopped,
  certificates: state.buckets.map((bucket): CertificateReport => {
    const result = bucket.result
    const failed = result?.action === "failed" || bucket.stage === "failed"
    return {
      name: bucket.name,
      domains: bucket.identifiers.map((identifier) => identifier.value),
      action: result?.action ?? (failed ? "failed" : "skipped"),
      reason: result?.reason ?? bucket.lastError?.message ?? "not processed",
      notBefore: result?.notBefore,
      replaced: result?.replaced,
      serial: result?.serialNumber,
      notAfter: result?.notAfter,
      daysLeft: result?.daysLeft,
      paths: result?.paths,
      deploy: result?.deploy,
      attempts: bucket.attempts > 0 ? bucket.attempts : undefined,
      explanation: bucket.decision?.explanation,
      error: failed && bucket.lastError !== undefined
        ? { type: bucket.lastError.tag, message: bucket.lastError.message, stage: bucket.lastError.stage }
        : undefined
    }
  })
})

/**
 * The report of a run that was interrupted (SIGTERM, Ctrl-C), from its last checkpoint: what was
 * done until then, each certificate it was still working on (or had not reached) said to be
 * resumed by the next run, and `interrupted: true`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const interrupted = (state: State): RunReport => {
  const report = fromState(state)
  return withCounts({
    ...report,
    interrupted: true,
    certificates: report.certificates.map((certificate, index) => {
      const bucket = state.buckets[index]
      const stage = bucket?.stage
      if (bucket === undefined || bucket.result !== undefined || stage === undefined || !workStages.includes(stage)) {
        return certificate
      }
      return {
        ...certificate,
        action: "skipped" as const,
        reason: `interrupted ${bucket.attempts === 0 && stage === "account" ? "before it started" : `in stage ${stage}`}; the next \`acme renew\` resumes it`
      }
    })
  })
}

/**
 * The report with its `counts` (how many certificates were renewed, skipped, failed, revoked).
 *
 * @since 0.1.0
 * @category constructors
 */
export const withCounts = (report: RunReport): RunReport => {
  const count = (action: CertificateReport["action"]) => report.certificates.filter((c) => c.action === action).length
  return { ...report, counts: { renewed: count("renewed"), skipped: count("skipped"), failed: count("failed"), revoked: count("revoked") } }
}

/**
 * The deterministic reporter.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Service = {
  summarize: (state) => Effect.succeed(fromState(state))
}

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Reporter> = Layer.succeed(Reporter, make)

/**
 * Whether a report has a failed or postponed certificate, or the run stopped before it was done
 * (exit code 1).
 *
 * @since 0.1.0
 * @category guards
 */
export const hasFailures = (report: RunReport): boolean =>
  report.stopped !== undefined || report.certificates.some((c) => c.action === "failed" || c.action === "postponed")
