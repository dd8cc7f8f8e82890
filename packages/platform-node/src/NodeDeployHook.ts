/**
 * Runs deploy hooks on Node: `/bin/sh -c <command>` through `@effect/platform`'s `Command`, with the
 * process environment plus the hook's variables (`ACME_CERT_NAME`, `ACME_FULLCHAIN_PATH`, ...). The
 * last 20 lines of its output (stdout and stderr together) go into the error when it fails. A hook
 * that outlives its timeout is stopped with its whole process group (SIGTERM, then SIGKILL).
 *
 * What `NodeCommandExecutor` (from `@effect/platform-node-shared` 0.61) does, which this relies on:
 * - it spawns with `detached: true` (not on Windows), so the shell leads its own process group;
 * - `Process.kill(signal)` sends the signal to the group (`process.kill(-pid, signal)`; the child
 *   alone if that fails) and then waits for the shell to exit;
 * - closing the scope of `start` sends SIGTERM to the group if the shell is still running, or if it
 *   exited with a non-zero code (so a failed hook's background children are stopped too; after a
 *   zero exit they are left alone, as a hook that starts a daemon expects);
 * - `exitCode` fails when the shell was killed by a signal, with the signal's name in the
 *   description only: that is where the shell-style exit code (128 + signal) is read from.
 *
 * @since 0.1.0
 */
import * as DeployHook from "@acme/sdk/DeployHook"
import * as Command from "@effect/platform/Command"
import * as CommandExecutor from "@effect/platform/CommandExecutor"
import type * as PlatformError from "@effect/platform/Error"
import * as NodeCommandExecutor from "@effect/platform-node/NodeCommandExecutor"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as os from "node:os"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** how long a hook may run; default 5 minutes */
  readonly timeout?: Duration.DurationInput | undefined
}

const outputLines = 20
/** how long a hook's process group gets between SIGTERM and SIGKILL */
const killGrace = Duration.seconds(2)
/** after the shell exits, how long to wait for the rest of its output (a daemon it started may hold the pipe) */
const outputGrace = Duration.millis(200)

/** the last lines of a stream of text, in bounded memory */
const makeTail = () => {
  let text = ""
  return {
    push: (chunk: string) => {
      text = (text + chunk).split("\n").slice(-(outputLines + 1)).join("\n").slice(-64 * 1024)
    },
    lines: (): string => {
      const lines = text.split("\n")
      if (lines.at(-1) === "") lines.pop()
      return lines.slice(-outputLines).join("\n")
    }
  }
}

/**
 * The exit code a shell would report: the code, or 128 + the signal that killed the shell (which
 * `NodeCommandExecutor` reports only as "Process interrupted due to receipt of signal: SIGTERM").
 */
const exitCodeOf = (process: CommandExecutor.Process): Effect.Effect<number> =>
  process.exitCode.pipe(
    Effect.map(Number),
    Effect.catchAll((error: PlatformError.PlatformError) => {
      const name = /\b(SIG[A-Z0-9]+)\b/.exec(error.message)?.[1]
      const signals: Readonly<Record<string, number>> = os.constants.signals
      return Effect.succeed(128 + (name === undefined ? 0 : signals[name] ?? 0))
    })
  )

/**
 * A DeployHook runner over a `CommandExecutor`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options = {}
): Effect.Effect<DeployHook.Service, never, CommandExecutor.CommandExecutor> =>
  Effect.gen(function*() {
    const executor = yield* CommandExecutor.CommandExecutor
    const timeout = Duration.decode(options.timeout ?? Duration.minutes(5))
    return DeployHook.DeployHook.of({
      run: ({ certificate, command, environment }) => {
        const tail = makeTail()
        const failure = (reason: DeployHook.DeployHookError["reason"], exitCode?: number) =>
          new DeployHook.DeployHookError({
            certificate,
            command,
            reason,
            ...(exitCode === undefined ? {} : { exitCode }),
            output: tail.lines()
          })
        const hook = Command.make("/bin/sh", "-c", command).pipe(
          Command.env(environment),
          // stdin at end of file at once (as "ignore" would give): a hook that reads it does not hang
          Command.stdin(Stream.empty)
        )
        const kill = (process: CommandExecutor.Process, signal: NodeJS.Signals) =>
          process.kill(signal).pipe(Effect.ignore)
        return Effect.gen(function*() {
          const process = yield* executor.start(hook).pipe(
            // Node throws on some bad input (a NUL byte in the command) instead of emitting "error"
            Effect.catchAllDefect((defect) => Effect.fail(defect instanceof Error ? defect : new Error(String(defect)))),
            Effect.mapError((error) => {
              tail.push(error.message)
              return failure("Spawn")
            })
          )
          yield* Effect.logDebug(`deploy hook of ${certificate} started (pid ${process.pid})`)
          const output = yield* Stream.merge(
            Stream.decodeText(process.stdout),
            Stream.decodeText(process.stderr)
          ).pipe(
            Stream.runForEach((chunk) => Effect.sync(() => tail.push(chunk))),
            Effect.ignore,
            Effect.fork
          )
          return yield* Effect.gen(function*() {
            const exitCode = yield* Effect.timeoutOption(exitCodeOf(process), timeout)
            if (Option.isNone(exitCode)) {
              // SIGTERM to the group; what is still there when the output closes (or after the
              // grace period) gets SIGKILL
              yield* Effect.timeoutOption(Effect.zipRight(kill(process, "SIGTERM"), Fiber.await(output)), killGrace)
              yield* kill(process, "SIGKILL")
              return yield* failure("Timeout")
            }
            yield* Effect.timeoutOption(Fiber.await(output), outputGrace)
            if (exitCode.value === 0) return
            return yield* failure("ExitCode", exitCode.value)
          }).pipe(
            // interrupted (the run was stopped): the hook goes with it
            Effect.onInterrupt(() => kill(process, "SIGKILL"))
          )
        }).pipe(
          Effect.scoped,
          Effect.withSpan("DeployHook.run", { attributes: { certificate, command } })
        )
      }
    })
  })

/**
 * Deploy hooks through `/bin/sh -c`, with options (`timeout`), over Node's `CommandExecutor`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith = (options: Options): Layer.Layer<DeployHook.DeployHook> =>
  Layer.effect(DeployHook.DeployHook, make(options)).pipe(
    Layer.provide(NodeCommandExecutor.layer),
    Layer.provide(NodeFileSystem.layer)
  )

/**
 * Deploy hooks through `/bin/sh -c`, with a 5 minute timeout.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<DeployHook.DeployHook> = layerWith({})
