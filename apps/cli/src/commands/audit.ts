/**
 * `acme audit [--since WHEN] [--json]`: the audit log of `acme serve` (and of `acme apikey`).
 *
 * @since 0.1.0
 */
import { RenewalConfig } from "@acme/sdk"
import { Command, Options } from "@effect/cli"
import { DateTime, Duration, Effect, Either, Option, Schema } from "effect"
import { UsageError } from "../CliError.js"
import * as Common from "../Common.js"
import * as Output from "../Output.js"
import * as Records from "../Records.js"

const since = Options.text("since").pipe(
  Options.withPseudoName("WHEN"),
  Options.withDescription("Only entries from then on: an ISO time (2026-11-23T00:00:00Z) or a duration ago (24 hours, 7 days)."),
  Options.optional
)

/** `--since` as an ISO time: a time as given, or now minus a duration */
const sinceTime = (text: string): Effect.Effect<string, UsageError> =>
  Effect.gen(function*() {
    const time = DateTime.make(text)
    if (Option.isSome(time) && /^\d{4}-\d{2}-\d{2}/.test(text)) return DateTime.formatIso(time.value)
    const duration = Schema.decodeUnknownEither(RenewalConfig.DurationText)(text)
    if (Either.isRight(duration)) {
      return DateTime.formatIso(DateTime.subtractDuration(yield* DateTime.now, Duration.decode(duration.right)))
    }
    return yield* new UsageError({
      message: `--since ${text}: neither a time nor a duration`,
      hint: "write e.g. --since 2026-11-23T00:00:00Z or --since \"24 hours\""
    })
  })

/**
 * @since 0.1.0
 * @category commands
 */
export const audit = Command.make(
  "audit",
  { ...Common.common, since },
  (options) =>
    Effect.gen(function*() {
      const from = Option.isSome(options.since) ? yield* sinceTime(options.since.value) : undefined
      const records = yield* Records.open(options.config)
      const entries = yield* records.readAudit(from)
      if (options.json) return yield* Output.json({ entries })
      if (entries.length === 0) return yield* Output.lines(["no audit entries"])
      yield* Output.lines(entries.map((entry) =>
        [
          entry.time,
          entry.actor,
          entry.action,
          entry.certificate ?? "-",
          entry.result,
          ...(entry.task === undefined ? [] : [`task=${entry.task}`]),
          ...(entry.detail === undefined ? [] : [entry.detail])
        ].join("  ")
      ))
    }).pipe(Effect.scoped, Output.withVerbosity(options.verbose))
).pipe(
  Command.withDescription(Common.help({
    summary:
      "Show the audit log: who (API key id, scheduler or cli) asked for what (renew, revoke, apikey.*), for which certificate, and what came of it.",
    details: [
      "The log is append-only: <storage>/server/audit.jsonl with file storage, the table acme_audit with Postgres storage (every server on the database writes to it)."
    ],
    examples: [
      ["acme audit --since \"24 hours\"", "the last day"],
      ["acme audit --json | jq '.entries[] | select(.result == \"failed\")'", "what failed"]
    ]
  }))
)
