/**
 * What a language model is shown, as Schemas: the scan for the planner, the report for the
 * reporter. Only the fields listed here reach the model (a Struct decode drops every other key), and
 * every free text (a decision's reason, an error message) goes through {@link SafeText} first, which
 * removes PEM blocks, URLs and long base64 / hex runs (keys, JWK members, tokens, nonces). Account
 * URLs, key material, EAB credentials and API keys therefore never reach a prompt: they are not
 * among the fields, and a message that happened to quote one loses it.
 *
 * @since 0.1.0
 */
import type * as Planner from "@acme/sdk/Planner"
import type * as Reporter from "@acme/sdk/Reporter"
import * as DateTime from "effect/DateTime"
import type * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

const PEM = /-----BEGIN [^-]*-----[\s\S]*?(?:-----END [^-]*-----|$)/g
const URL_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/\S+/gi
/** base64, base64url or hex runs long enough to be a key, a key member, a token or a nonce */
const OPAQUE = /[A-Za-z0-9+/_=-]{32,}/g
const MAX_LENGTH = 500

/**
 * A text with anything that could be a secret removed, on one line, at most 500 characters.
 *
 * @since 0.1.0
 * @category combinators
 */
export const redact = (text: string): string => {
  const line = text
    .replace(PEM, "[PEM removed]")
    .replace(URL_TEXT, "[URL removed]")
    .replace(OPAQUE, "[removed]")
    .replace(/\s+/g, " ")
    .trim()
  return line.length > MAX_LENGTH ? `${line.slice(0, MAX_LENGTH - 1)}…` : line
}

/**
 * A string that decodes to its {@link redact}ed form.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SafeText = Schema.transform(Schema.String, Schema.String, {
  strict: true,
  decode: redact,
  encode: (text) => text
})

/**
 * One certificate as the planner's model sees it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ScanEntry = Schema.Struct({
  name: SafeText,
  domains: Schema.Array(SafeText),
  notBefore: Schema.optional(Schema.String),
  notAfter: Schema.optional(Schema.String),
  /** whole days until notAfter, floored (negative: expired) */
  daysLeft: Schema.optional(Schema.Number),
  /** the CA's suggested renewal window (ARI), when it gave one */
  ariWindow: Schema.optional(Schema.Struct({ start: Schema.String, end: Schema.String })),
  revoked: Schema.Boolean,
  /** the deterministic decision, which stands */
  decision: Schema.Literal("renew", "skip"),
  reason: SafeText,
  renewAt: Schema.optional(Schema.String),
  /** this certificate's error in the previous run, when it failed there */
  lastError: Schema.optional(SafeText)
})

/**
 * @since 0.1.0
 * @category models
 */
export type ScanEntry = typeof ScanEntry.Type

/**
 * @since 0.1.0
 * @category schemas
 */
export const Scan = Schema.Struct({
  now: Schema.String,
  certificates: Schema.Array(ScanEntry)
})

/**
 * @since 0.1.0
 * @category models
 */
export type Scan = typeof Scan.Type

const decodeScan = Schema.decodeUnknown(Scan)

/**
 * The scan for the model, from the planner's inputs and the deterministic plan. Built by decoding
 * through {@link Scan}, so only its fields, redacted, come out.
 *
 * @since 0.1.0
 * @category constructors
 */
export const scan = (
  inputs: ReadonlyArray<Planner.Input>,
  plan: Planner.Plan,
  now: DateTime.Utc
): Effect.Effect<Scan, ParseResult.ParseError> =>
  decodeScan({
    now: DateTime.formatIso(now),
    certificates: inputs.map((input, index) => {
      const decision = plan.decisions[index]
      const current = Option.getOrUndefined(input.current)
      const notAfter = Option.flatMap(Option.fromNullable(current?.notAfter), DateTime.make)
      return {
        name: input.name,
        domains: input.identifiers.map((identifier) => identifier.value),
        notBefore: current?.notBefore,
        notAfter: current?.notAfter,
        daysLeft: Option.getOrUndefined(
          Option.map(notAfter, (at) => Math.floor(DateTime.distance(now, at) / 86_400_000))
        ),
        ariWindow: current?.renewalInfo === undefined
          ? undefined
          : { start: current.renewalInfo.start, end: current.renewalInfo.end },
        revoked: current?.revokedAt !== undefined,
        decision: decision?.action ?? "renew",
        reason: decision?.reason ?? "",
        renewAt: decision?.renewAt,
        lastError: input.lastError
      }
    })
  })

/**
 * One certificate of a run as the reporter's model sees it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ReportEntry = Schema.Struct({
  name: SafeText,
  domains: Schema.Array(SafeText),
  action: Schema.Literal("renewed", "skipped", "failed", "revoked"),
  reason: SafeText,
  notAfter: Schema.optional(Schema.String),
  attempts: Schema.optional(Schema.Number),
  error: Schema.optional(Schema.Struct({ type: SafeText, stage: SafeText, message: SafeText }))
})

/**
 * @since 0.1.0
 * @category schemas
 */
export const Report = Schema.Struct({
  command: Schema.Literal("renew", "revoke"),
  dryRun: Schema.Boolean,
  resumed: Schema.Boolean,
  planner: Schema.optional(Schema.Struct({
    provider: SafeText,
    fallback: Schema.Boolean,
    dropped: Schema.Array(SafeText),
    restored: Schema.Array(SafeText)
  })),
  certificates: Schema.Array(ReportEntry)
})

/**
 * @since 0.1.0
 * @category models
 */
export type Report = typeof Report.Type

const decodeReport = Schema.decodeUnknown(Report)

/**
 * The run report for the model: no run id, CA URL, file paths or serials; texts redacted.
 *
 * @since 0.1.0
 * @category constructors
 */
export const report = (runReport: Reporter.RunReport): Effect.Effect<Report, ParseResult.ParseError> =>
  decodeReport(runReport)
