/**
 * `acme doctor`: checks, before anything is ordered, what would make an order fail (the SDK's
 * `Doctor`), one line per check with how to fix each failure; exit code 1 when a check failed.
 *
 * @since 0.1.0
 */
import { CertificateName, Doctor } from "@acme/sdk"
import { Command, Options } from "@effect/cli"
import { Effect, Option, Schema } from "effect"
import * as Common from "../Common.js"
import * as CliError from "../CliError.js"
import * as ConfigFile from "../ConfigFile.js"
import * as Layers from "../Layers.js"
import * as Output from "../Output.js"

const only = Options.text("only").pipe(
  Options.withPseudoName("NAME"),
  Options.withDescription("Only this certificate (its configured name); repeat for several. Default: all of them."),
  Options.repeated,
  // after `repeated`: @effect/cli repeats only a plain option, so the names are checked as a list
  Options.withSchema(Schema.mutable(Schema.Array(CertificateName.CertificateName))),
  Options.optional
)

const resolver = Options.text("resolver").pipe(
  Options.withPseudoName("IP[:PORT]"),
  Options.withDescription(
    "Ask this recursive DNS resolver instead of the system's (e.g. a public one, to see what the CA sees); repeat for several."
  ),
  Options.repeated
)

const http01Port = Options.integer("http01-port").pipe(
  Options.withPseudoName("PORT"),
  Options.withDescription(
    "The port the CA fetches http-01 tokens from: 80 for every public CA; another only for a test CA such as Pebble."
  ),
  Options.withDefault(80)
)

const statusLabel: Record<Doctor.Status, string> = { ok: "ok", fail: "FAIL", warn: "warn", skip: "skip" }

/**
 * The report for people: one line per check, the fix on the same line, then the counts.
 *
 * @since 0.1.0
 * @category output
 */
export const reportLines = (report: Doctor.Report): Array<string> => {
  const lines = report.checks.map((check) => {
    const about = check.certificate === undefined ? check.subject : `${check.certificate} ${check.subject}`
    const fix = check.fix === undefined ? "" : `; fix: ${check.fix}`
    return `${statusLabel[check.status].padEnd(4)}  ${check.check.padEnd(11)}  ${about}: ${check.message}${fix}`
  })
  const { counts } = report
  lines.push(
    `${report.checks.length} checks: ${counts.ok} ok, ${counts.fail} failed, ${counts.warn} warnings, ${counts.skip} skipped`
  )
  return lines
}

/**
 * @since 0.1.0
 * @category commands
 */
export const doctor = Command.make(
  "doctor",
  { ...Common.common, only, resolver, http01Port },
  (options) =>
    Effect.gen(function*() {
      if (options.http01Port < 1 || options.http01Port > 65535) {
        return yield* new CliError.UsageError({ message: `--http01-port ${options.http01Port}: not a port (1 to 65535)` })
      }
      const loaded = yield* ConfigFile.load(options.config, { requireEab: false })
      const selected = Option.getOrElse(options.only, (): ReadonlyArray<string> => [])
      yield* Common.checkNames(loaded.settings.config, loaded.file, selected, "--only")
      const report = yield* Doctor.run({
        only: selected,
        storagePath: loaded.storagePath,
        http01Port: options.http01Port
      }).pipe(
        Output.withStatus("checking DNS, CAA, challenges, the CA, the storage and the account…"),
        Effect.provide(Layers.doctor(loaded, { resolvers: options.resolver }))
      )
      if (options.json) yield* Output.json(report)
      else yield* Output.lines(reportLines(report))
      if (Doctor.hasFailures(report)) {
        return yield* new CliError.ChecksFailed({ failed: report.counts.fail, total: report.checks.length })
      }
    }).pipe(Output.withVerbosity(options.verbose))
).pipe(
  Command.withDescription(Common.help({
    summary:
      "Check, before anything is ordered, what would make an order fail, and say how to fix each problem: names resolve, CAA allows the CA, the challenge can be answered (http-01: a test token fetched back through the public name; dns-01: the provider adds and removes a test record, the zone's name servers answer), the clock agrees with the CA's, the storage is writable and private, the account is valid, EAB is there when the CA needs it.",
    details: [
      "Orders nothing and changes nothing at the CA (an http-01 test token and a dns-01 test TXT record are put in place and removed). Exit code 0 when no check failed, 1 when one did, 2 when the command line or the configuration is wrong."
    ],
    examples: [
      ["acme doctor", "every check, one line each"],
      ["acme doctor --only web --resolver 1.1.1.1", "the certificate web, with the DNS a public resolver sees"],
      ["acme doctor --json | jq '.checks[] | select(.status == \"fail\")'", "the failed checks, with their fixes"]
    ]
  }))
)
