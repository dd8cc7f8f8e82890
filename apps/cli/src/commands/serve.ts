/**
 * `acme serve`: renews what is due on a schedule and answers a REST API, `/metrics` and a status
 * page (`@acme/server`), with the pipeline of `acme renew`. SIGHUP reloads the configuration;
 * SIGTERM stops taking work, lets the running task finish (for a few seconds) and exits 0.
 *
 * @since 0.1.0
 */
import * as Server from "@acme/server/Server"
import { parseListen } from "@acme/server/ServerConfig"
import * as Tracing from "@acme/server/Tracing"
import { Command, Options } from "@effect/cli"
import { NodeContext } from "@effect/platform-node"
import { Effect, Layer, Option } from "effect"
import * as CliError from "../CliError.js"
import * as Common from "../Common.js"
import * as ConfigFile from "../ConfigFile.js"
import * as Layers from "../Layers.js"
import * as Output from "../Output.js"
import { version } from "../version.js"

const listen = Options.text("listen").pipe(
  Options.withPseudoName("HOST:PORT"),
  Options.withDescription("Where to listen, e.g. 127.0.0.1:8555 (the default) or [::1]:8555. Default: server.listen."),
  Options.optional
)

let stoppedOnSignal = false

/**
 * Whether `acme serve` stopped because it was told to (SIGTERM, SIGINT): the process then exits 0.
 *
 * @since 0.1.0
 * @category running
 */
export const stoppedGracefully = (): boolean => stoppedOnSignal

const markSignals = Effect.acquireRelease(
  Effect.sync(() => {
    const mark = () => {
      stoppedOnSignal = true
    }
    process.prependListener("SIGTERM", mark)
    process.prependListener("SIGINT", mark)
    return mark
  }),
  (mark) =>
    Effect.sync(() => {
      process.off("SIGTERM", mark)
      process.off("SIGINT", mark)
    })
)

/**
 * @since 0.1.0
 * @category commands
 */
export const serve = Command.make(
  "serve",
  { config: Common.config, verbose: Common.verbose, listen },
  (options) =>
    Effect.gen(function*() {
      const address = Option.getOrUndefined(options.listen)
      if (address !== undefined && parseListen(address) === undefined) {
        return yield* new CliError.UsageError({
          message: `--listen ${address}: not a listen address`,
          hint: "write HOST:PORT, e.g. --listen 127.0.0.1:8555 or --listen [::1]:8555"
        })
      }
      // the first load fails the command (exit code 2 for a bad file); a reload keeps the old one
      const first = yield* ConfigFile.load(options.config)
      let loaded: Option.Option<ConfigFile.Loaded> = Option.some(first)
      const load = Effect.suspend(() => {
        const initial = loaded
        loaded = Option.none()
        return Option.match(initial, { onSome: Effect.succeed, onNone: () => ConfigFile.load(options.config) })
      }).pipe(
        Effect.map((configuration) => ({ server: configuration.server, layer: Layers.pipeline(configuration) })),
        Effect.provide(NodeContext.layer)
      )
      yield* markSignals
      yield* Layer.launch(
        Server.layer({ load, listen: address }).pipe(
          Layer.provide(Tracing.layerFromEnv({ serviceName: "acme", serviceVersion: version }))
        )
      )
    }).pipe(Effect.scoped, Output.withVerbosity(options.verbose))
).pipe(
  Command.withDescription(Common.help({
    summary:
      "Run as a service: renew what is due every server.interval (and at start), and answer a REST API (/v1), /metrics for Prometheus and a status page at /.",
    details: [
      "API requests need a key from `acme apikey create`. SIGHUP reloads the configuration (a bad file is logged and the old one kept); SIGTERM stops taking work, gives the running renewal a few seconds to finish (it resumes from its checkpoint at the next start otherwise) and exits 0. Spans go to OTEL_EXPORTER_OTLP_ENDPOINT when it is set. See docs/server.md."
    ],
    examples: [
      ["acme serve --config /etc/acme/acme.yaml", "listen on 127.0.0.1:8555 (or server.listen)"],
      ["acme serve --listen 0.0.0.0:8555", "on every interface (put TLS in front of it)"],
      ["curl -H \"Authorization: Bearer $KEY\" http://127.0.0.1:8555/v1/certificates", "ask it what it holds"]
    ]
  }))
)
