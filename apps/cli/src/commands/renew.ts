/**
 * `acme renew`: renews what is due (or what `--force` says), resuming an interrupted run first.
 *
 * @since 0.1.0
 */
import { CertificateName, Renewal } from "@acme/sdk"
import * as Tracing from "@acme/server/Tracing"
import { Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import * as Common from "../Common.js"
import * as CliError from "../CliError.js"
import * as ConfigFile from "../ConfigFile.js"
import * as Layers from "../Layers.js"
import * as Output from "../Output.js"
import { version } from "../version.js"

const only = Options.text("only").pipe(
  Options.withSchema(CertificateName.CertificateName),
  Options.withPseudoName("NAME"),
  Options.withDescription("Only this certificate (its configured name); repeat for several. Default: all of them."),
  Options.repeated,
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

const force = Options.boolean("force").pipe(
  Options.withDescription("Renew the selected certificates now, whether they are due or not.")
)

const dryRun = Options.boolean("dry-run").pipe(
  Options.withDescription("Read the configuration and storage, ask the CA for renewal info, say what would be done; change nothing.")
)

/**
 * @since 0.1.0
 * @category commands
 */
export const renew = Command.make(
  "renew",
  { ...Common.common, only, force, dryRun },
  (options) =>
    Effect.gen(function*() {
      // @effect/cli parses `--only` without a name like no `--only` at all (see bareOnly); that must
      // not mean "all of them", so the command line itself is checked
      if (bareOnly(process.argv)) {
        return yield* new CliError.UsageError({ message: "--only needs a certificate name", hint: "acme renew --only NAME" })
      }
      const loaded = yield* ConfigFile.load(options.config)
      const selected = Option.getOrElse(options.only, (): ReadonlyArray<string> => [])
      yield* Common.checkNames(loaded.settings.config, loaded.file, selected, "--only")
      const report = yield* Renewal.renew({ force: options.force, dryRun: options.dryRun, only: selected }).pipe(
        Effect.provide(Layers.pipeline(loaded)),
        // spans to $OTEL_EXPORTER_OTLP_ENDPOINT when it is set (flushed before the command ends)
        Effect.provide(Tracing.layerFromEnv({ serviceName: "acme", serviceVersion: version }))
      )
      yield* Common.finish(report, options.json)
    }).pipe(Output.withVerbosity(options.verbose))
).pipe(
  Command.withDescription(Common.help({
    summary: "Renew the configured certificates that are due, and only those; meant to run from cron or a systemd timer.",
    details: [
      "A certificate is due when it does not exist yet, was revoked, no longer matches its configuration, when the CA's renewal window (ARI) has come, or when a third of its lifetime is left (renewal.daysBefore days before expiry when set). An interrupted run is resumed first. Exit code 0 when nothing failed, 1 when a certificate (or the run) failed, 2 when the command line or the configuration is wrong."
    ],
    examples: [
      ["acme renew", "renew what is due, with ./acme.yaml"],
      ["acme renew --config /etc/acme/acme.yaml --json", "the same, the report as JSON on stdout"],
      ["acme renew --dry-run", "say what would be renewed and why, change nothing"],
      ["acme renew --force --only web", "renew the certificate named web now"]
    ]
  }))
)
