/**
 * What the commands share: the `--config`, `--json` and `--verbose` options, help text with
 * examples, and printing a run's report.
 *
 * @since 0.1.0
 */
import type { RenewalConfig } from "@acme/sdk"
import { CertificateName, Reporter } from "@acme/sdk"
import { HelpDoc, Options } from "@effect/cli"
import { DateTime, Effect, Option, Schema } from "effect"
import { CertificatesFailed, UsageError } from "./CliError.js"
import * as Output from "./Output.js"

/**
 * `--config FILE`
 *
 * @since 0.1.0
 * @category options
 */
export const config = Options.text("config").pipe(
  Options.withAlias("c"),
  Options.withPseudoName("FILE"),
  Options.withDescription(
    "The configuration file. Default: $ACME_CONFIG, else the first of ./acme.yaml, ./acme.yml, ./acme.json."
  ),
  Options.optional
)

/**
 * `--json`
 *
 * @since 0.1.0
 * @category options
 */
export const json = Options.boolean("json").pipe(
  Options.withDescription("Print exactly one JSON document on stdout (progress and logs stay on stderr).")
)

/**
 * `--verbose`
 *
 * @since 0.1.0
 * @category options
 */
export const verbose = Options.boolean("verbose").pipe(
  Options.withAlias("v"),
  Options.withDescription("Also log debug lines (on stderr).")
)

/**
 * `--only NAME`, repeated
 *
 * @since 0.1.0
 * @category options
 */
export const only = Options.text("only").pipe(
  Options.withPseudoName("NAME"),
  Options.withDescription("Only this certificate (its configured name); repeat for several. Default: all of them."),
  Options.repeated,
  // after `repeated`: @effect/cli repeats only a plain option, so the names are checked as a list
  Options.withSchema(Schema.mutable(Schema.Array(CertificateName.CertificateName))),
  Options.optional
)

/**
 * `--only` as the last argument, or followed by another option instead of a name. Read from the
 * command line because @effect/cli 0.77 cannot tell these apart (internal/options.ts, the
 * `Variadic` case of `parseInternal`):
 * - `acme renew --only` (last): `Options.repeated` gives `[]`, the same as no `--only` at all, which
 *   here would mean "all of them"; `Options.atLeast(1)` rejects it but also rejects a command line
 *   without `--only`, and `Options.optional` / `Options.withDefault` do not help, as they only
 *   catch a `MissingValue` while `atLeast` fails with `InvalidValue`;
 * - `acme renew --only --force`: the next argument is taken as the value whatever it is
 *   (`only = ["--force"]`, and `force` stays false).
 */
const bareOnly = (argv: ReadonlyArray<string>): boolean =>
  argv.some((argument, index) => argument === "--only" && (argv[index + 1]?.startsWith("-") ?? true))

/**
 * The names `--only` gives (none: all of them), or a usage error for a `--only` without a name
 * (which @effect/cli parses like no `--only` at all: see bareOnly).
 *
 * @since 0.1.0
 * @category options
 */
export const onlyNames = (
  parsed: Option.Option<ReadonlyArray<CertificateName.CertificateName>>,
  command: string
): Effect.Effect<ReadonlyArray<CertificateName.CertificateName>, UsageError> =>
  bareOnly(process.argv)
    ? Effect.fail(new UsageError({ message: "--only needs a certificate name", hint: `acme ${command} --only NAME` }))
    : Effect.succeed(Option.getOrElse(parsed, (): ReadonlyArray<CertificateName.CertificateName> => []))

/**
 * The options every command that reads the configuration takes.
 *
 * @since 0.1.0
 * @category options
 */
export const common = { config, json, verbose } as const

/**
 * A command's help: what it does, then examples.
 *
 * @since 0.1.0
 * @category help
 */
export const help = (options: {
  readonly summary: string
  readonly details?: ReadonlyArray<string> | undefined
  readonly examples: ReadonlyArray<readonly [command: string, what: string]>
}): HelpDoc.HelpDoc =>
  HelpDoc.blocks([
    HelpDoc.p(options.summary),
    ...(options.details ?? []).map((detail) => HelpDoc.p(detail)),
    HelpDoc.h2("EXAMPLES"),
    ...options.examples.map(([command, what]) => HelpDoc.p(`  $ ${command}\n      ${what}`))
  ])

/**
 * Fails with a usage error (exit code 2) when a name is not one of the configured certificates.
 *
 * @since 0.1.0
 * @category checks
 */
export const checkNames = (
  config: RenewalConfig.RenewalConfig,
  file: string,
  names: ReadonlyArray<string>,
  flag: string
): Effect.Effect<void, UsageError> => {
  const known: ReadonlyArray<string> = config.certificates.map((certificate) => certificate.name)
  const unknown = names.filter((name) => !known.includes(name))
  return unknown.length === 0 ? Effect.void : Effect.fail(
    new UsageError({
      message: `${flag} ${unknown.join(", ")}: no such certificate in ${file}`,
      hint: `the configured names are ${known.join(", ")}`
    })
  )
}

/**
 * Prints a run's report (JSON or lines), then fails with `CertificatesFailed` when a certificate
 * failed or was postponed, or the run stopped at its time budget (exit code 1).
 *
 * @since 0.1.0
 * @category output
 */
export const finish = (
  report: Reporter.RunReport,
  asJson: boolean
): Effect.Effect<void, CertificatesFailed> =>
  Effect.gen(function*() {
    if (asJson) yield* Output.json(report)
    else yield* Output.lines(Output.reportLines(report, yield* DateTime.now))
    if (Reporter.hasFailures(report)) {
      return yield* new CertificatesFailed({
        failed: report.certificates.filter((c) => c.action === "failed").map((c) => c.name),
        postponed: report.certificates.filter((c) => c.action === "postponed").map((c) => c.name),
        total: report.certificates.length
      })
    }
  })
