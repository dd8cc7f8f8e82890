/**
 * The command tree of `acme`.
 *
 * @since 0.1.0
 */
import { CliConfig, Command } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import type { Teardown } from "@effect/platform/Runtime"
import { Console, Effect, Exit, Layer } from "effect"
import * as CliError from "./CliError.js"
import { account } from "./commands/account.js"
import { apikey } from "./commands/apikey.js"
import { audit } from "./commands/audit.js"
import { demo } from "./commands/demo.js"
import { init } from "./commands/init.js"
import { renew } from "./commands/renew.js"
import { revoke } from "./commands/revoke.js"
import { serve, stoppedGracefully } from "./commands/serve.js"
import { status } from "./commands/status.js"
import * as Common from "./Common.js"
import * as Output from "./Output.js"
import { version } from "./version.js"

/**
 * @since 0.1.0
 * @category commands
 */
export const root = Command.make("acme").pipe(
  Command.withDescription(Common.help({
    summary: "Keep TLS certificates valid with an ACME CA (Let's Encrypt, or any RFC 8555 CA).",
    details: [
      "Every command reads the configuration file given by --config, else $ACME_CONFIG, else ./acme.yaml, ./acme.yml or ./acme.json. `acme <command> --help` describes each command.",
      "Exit codes: 0 nothing failed; 1 a certificate or the run failed; 2 the command line or the configuration is wrong."
    ],
    examples: [
      ["acme demo", "see it work against a local test CA"],
      ["acme init", "write a commented ./acme.yaml to start from"],
      ["acme renew", "renew what is due (from cron or a systemd timer)"],
      ["acme status", "what is stored, and when each certificate is renewed next"]
    ]
  })),
  Command.withSubcommands([renew, revoke, status, account, init, demo, serve, apikey, audit])
)

/**
 * Runs the command line (the whole `process.argv`: the first two entries are node and the script).
 *
 * @since 0.1.0
 * @category running
 */
export const run = Command.run(root, { name: "acme", version })

// @effect/cli prints usage errors with Console.error in several lines; they are printed as one
// `acme: ...` line by `main` instead.
const withoutCliErrorPrinting = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Console.consoleWith((console) => Console.withConsole(self, { ...console, error: () => Effect.void }))

// Ends the process with the command's exit code once stdout and stderr are flushed; something
// left running (a keep-alive socket) gets a second before the process exits anyway.
const teardown: Teardown = (exit, onExit) => {
  // `acme serve` stops on SIGTERM on purpose, once its running task is done or checkpointed
  if (Exit.isInterrupted(exit) && stoppedGracefully()) return onExit(0)
  // interrupted: "acme: interrupted" was printed by `main`; a renewal that was cut short is resumed
  // by the next `acme renew`
  if (Exit.isInterrupted(exit)) return onExit(130)
  const code = Exit.isSuccess(exit) && typeof exit.value === "number" ? exit.value : 1
  process.exitCode = code
  setTimeout(() => process.exit(code), 1000).unref()
}

/**
 * The `acme` process (what `bin.ts` runs): the command line, a failure printed as one line (and as
 * JSON with `--json`), the exit code.
 *
 * @since 0.1.0
 * @category running
 */
export const main = (argv: ReadonlyArray<string>): void => {
  // Read from the command line, not from the parsed options: @effect/cli 0.77 hands the parsed
  // options to the handler only when the whole command line parsed. A usage error
  // (`acme status --json --frobnicate`: "Received unknown argument: '--frobnicate'") fails in
  // `Command.run` before any option has a value, and its ValidationError holds only a HelpDoc; that
  // error too must be the one JSON document on stdout.
  const wantsJson = argv.slice(2).includes("--json")
  const program = Effect.suspend(() => run(argv)).pipe(
    withoutCliErrorPrinting,
    Effect.matchCauseEffect({
      onSuccess: () => Effect.succeed(0),
      onFailure: (cause) => {
        const failure = CliError.describe(cause)
        return Output.errorLine(`acme: ${failure.line}`).pipe(
          Effect.zipRight(
            wantsJson && !failure.reported
              ? Output.json({ error: { type: failure.type, message: failure.line, exitCode: failure.exitCode } })
              : Effect.void
          ),
          Effect.as(failure.exitCode)
        )
      }
    }),
    Effect.onInterrupt(() => stoppedGracefully() ? Effect.void : Output.errorLine("acme: interrupted")),
    Effect.provide(Layer.mergeAll(NodeContext.layer, Output.loggerLayer, CliConfig.layer({ showBuiltIns: false })))
  )
  NodeRuntime.runMain(program, { disableErrorReporting: true, disablePrettyLogger: true, teardown })
}
