/**
 * `acme renew`: renews what is due (or what `--force` says), resuming an interrupted run first.
 *
 * @since 0.1.0
 */
import { Renewal, RenewalConfig } from "@acme/sdk"
import * as Tracing from "@acme/server/Tracing"
import { Command, Options } from "@effect/cli"
import { Effect, Either, Option, ParseResult, Schema } from "effect"
import * as CliError from "../CliError.js"
import * as Common from "../Common.js"
import * as ConfigFile from "../ConfigFile.js"
import * as Interrupted from "../Interrupted.js"
import * as Layers from "../Layers.js"
import * as Output from "../Output.js"
import { version } from "../version.js"
import * as Writable from "../Writable.js"

const force = Options.boolean("force").pipe(
  Options.withDescription("Renew the selected certificates now, whether they are due or not.")
)

const dryRun = Options.boolean("dry-run").pipe(
  Options.withDescription("Read the configuration and storage, ask the CA for renewal info, say what would be done; change nothing.")
)

const wait = Options.text("wait").pipe(
  Options.withPseudoName("DURATION"),
  Options.withDescription(
    "Wait up to this long (\"5 minutes\", \"1 hour\") for the certificates another acme run is renewing, instead of leaving them to it."
  ),
  Options.optional
)

/** `--wait`'s duration, or a usage error that says how to write one */
const waitDuration = (text: Option.Option<string>) =>
  Option.match(text, {
    onNone: () => Effect.succeed(undefined),
    onSome: (value) =>
      Either.match(Schema.decodeUnknownEither(RenewalConfig.DurationText)(value), {
        onLeft: (error) =>
          Effect.fail(
            new CliError.UsageError({
              message: `--wait: ${ParseResult.TreeFormatter.formatErrorSync(error).split("\n").at(-1)?.trim() ?? value}`,
              hint: "acme renew --wait \"10 minutes\""
            })
          ),
        onRight: (duration) => Effect.succeed(duration)
      })
  })

/**
 * @since 0.1.0
 * @category commands
 */
export const renew = Command.make(
  "renew",
  { ...Common.common, only: Common.only, force, dryRun, wait },
  (options) =>
    Effect.gen(function*() {
      const selected = yield* Common.onlyNames(options.only, "renew")
      const waitFor = yield* waitDuration(options.wait)
      const loaded = yield* ConfigFile.load(options.config)
      yield* Common.checkNames(loaded.settings.config, loaded.file, selected, "--only")
      // a dry run writes nothing, but must say when the real run could not write
      if (options.dryRun) yield* Writable.checkStorage(loaded)
      const report = yield* Renewal.renew({ force: options.force, dryRun: options.dryRun, only: selected, wait: waitFor }).pipe(
        Interrupted.reportWhenInterrupted(options.json),
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
