/**
 * The `acme` executable: runs the command line, prints a failure as one line, exits with its code.
 *
 * @since 0.1.0
 */
import { CliConfig } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import type { Teardown } from "@effect/platform/Runtime"
import { Console, Effect, Exit, Layer } from "effect"
import * as Cli from "./Cli.js"
import * as CliError from "./CliError.js"
import * as Output from "./Output.js"

const argv = process.argv
const wantsJson = argv.slice(2).includes("--json")

// @effect/cli prints usage errors with Console.error in several lines; they are printed as one
// `acme: ...` line below instead.
const withoutCliErrorPrinting = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Console.consoleWith((console) => Console.withConsole(self, { ...console, error: () => Effect.void }))

const main = Effect.suspend(() => Cli.run(argv)).pipe(
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
  Effect.provide(Layer.mergeAll(NodeContext.layer, Output.loggerLayer, CliConfig.layer({ showBuiltIns: false })))
)

// Ends the process with the command's exit code once stdout and stderr are flushed; something
// left running (a keep-alive socket) gets a second before the process exits anyway.
const teardown: Teardown = (exit, onExit) => {
  if (Exit.isInterrupted(exit)) {
    // a renewal that was cut short is resumed by the next `acme renew`
    process.stderr.write("acme: interrupted\n")
    return onExit(130)
  }
  const code = Exit.isSuccess(exit) && typeof exit.value === "number" ? exit.value : 1
  process.exitCode = code
  setTimeout(() => process.exit(code), 1000).unref()
}

NodeRuntime.runMain(main, { disableErrorReporting: true, disablePrettyLogger: true, teardown })
