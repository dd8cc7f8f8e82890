/**
 * The planning part of the state record: what the planner decided for each certificate, and how the
 * plan of a run was made (re-exported by `RenewalState`).
 *
 * @internal
 */
import * as Schema from "effect/Schema"

/**
 * What the planner decided for a certificate, and why, in plain words.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Decision = Schema.Struct({
  action: Schema.Literal("renew", "skip"),
  reason: Schema.String,
  /** when the certificate is (or was) due */
  renewAt: Schema.optional(Schema.String),
  /** the ARI CertID of the certificate this renewal replaces */
  replaces: Schema.optional(Schema.String),
  /** why the CA refused `replaces`, when it did: the order is then placed without it, once */
  replacesRefused: Schema.optional(Schema.String),
  /** an advisory planner's note on this certificate (an LLM's words; never what decides) */
  explanation: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export type Decision = typeof Decision.Type

/**
 * A certificate on which an advisory planner's answer disagreed with the deterministic decision
 * (the deterministic decision was kept).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Disagreement = Schema.Struct({
  name: Schema.String,
  /** what the advisory planner said */
  advised: Schema.Literal("renew", "skip"),
  /** what was done: always the deterministic decision */
  kept: Schema.Literal("renew", "skip")
})

/**
 * @since 0.1.0
 * @category models
 */
export type Disagreement = typeof Disagreement.Type

/**
 * How the plan of a run was made: by which planner, and what the guards in front of an advisory
 * (LLM) planner did. The deterministic planner reports `{ provider: "deterministic", fallback:
 * false, dropped: [], restored: [] }`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PlannerOutcome = Schema.Struct({
  /** `deterministic`, or the advisory planner's provider (`anthropic`, `openai`, `openai-compatible`, ...) */
  provider: Schema.String,
  /** the model asked, for an advisory planner */
  model: Schema.optional(Schema.String),
  /** the model's answer was not used at all (an error, a timeout, an answer that did not decode) */
  fallback: Schema.Boolean,
  /** why it fell back, in one line */
  fallbackReason: Schema.optional(Schema.String),
  /** certificates the answer named that are not configured (invented): ignored */
  dropped: Schema.Array(Schema.String),
  /** configured certificates the answer left out: planned by the deterministic decision */
  restored: Schema.Array(Schema.String),
  /** certificates on which the answer disagreed with the deterministic decision (which was kept) */
  disagreements: Schema.optionalWith(Schema.Array(Disagreement), { default: () => [] })
})

/**
 * @since 0.1.0
 * @category models
 */
export type PlannerOutcome = typeof PlannerOutcome.Type
