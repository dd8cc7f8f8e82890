/**
 * Runs deploy hooks on Node: `/bin/sh -c <command>` in its own process group, with the process
 * environment plus the hook's variables (`ACME_CERT_NAME`, `ACME_FULLCHAIN_PATH`, ...). The last
 * 20 lines of its output (stdout and stderr together) go into the error when it fails. A hook
 * that outlives its timeout is stopped with its whole process group (SIGTERM, then SIGKILL).
 *
 * @since 0.1.0
 */
import * as DeployHook from "@acme/sdk/DeployHook"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as child_process from "node:child_process"
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

interface Finished {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

const killGroup = (child: child_process.ChildProcess, signal: NodeJS.Signals) =>
  Effect.sync(() => {
    if (child.pid === undefined) return
    try {
      // a negative pid is the process group (the child leads its own: detached)
      process.kill(-child.pid, signal)
    } catch {
      // already gone
    }
  })

/**
 * A DeployHook runner.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): DeployHook.Service => {
  const timeout = Duration.decode(options.timeout ?? Duration.minutes(5))
  return {
    run: ({ certificate, command, environment }) =>
      Effect.gen(function*() {
        const tail = makeTail()
        const failure = (reason: DeployHook.DeployHookError["reason"], exitCode?: number) =>
          new DeployHook.DeployHookError({
            certificate,
            command,
            reason,
            ...(exitCode === undefined ? {} : { exitCode }),
            output: tail.lines()
          })

        const child = yield* Effect.try({
          try: () =>
            child_process.spawn("/bin/sh", ["-c", command], {
              env: { ...process.env, ...environment },
              detached: true,
              stdio: ["ignore", "pipe", "pipe"]
            }),
          catch: (error) => {
            tail.push(String(error))
            return failure("Spawn")
          }
        })
        child.stdout?.setEncoding("utf8").on("data", tail.push)
        child.stderr?.setEncoding("utf8").on("data", tail.push)
        const started = yield* Deferred.make<void, DeployHook.DeployHookError>()
        const exited = yield* Deferred.make<Finished>()
        const closed = yield* Deferred.make<void>()
        child.once("spawn", () => Deferred.unsafeDone(started, Exit.void))
        child.once("error", (error) => {
          tail.push(error.message)
          Deferred.unsafeDone(started, Exit.fail(failure("Spawn")))
        })
        child.once("exit", (code, signal) => Deferred.unsafeDone(exited, Exit.succeed({ code, signal })))
        child.once("close", () => Deferred.unsafeDone(closed, Exit.void))

        return yield* Effect.gen(function*() {
          yield* Deferred.await(started)
          yield* Effect.logDebug(`deploy hook of ${certificate} started (pid ${child.pid ?? "?"})`)
          const finished = yield* Effect.timeoutOption(Deferred.await(exited), timeout)
          if (Option.isNone(finished)) {
            // SIGTERM to the group; what is still there when the output closes (or after the
            // grace period) gets SIGKILL
            yield* killGroup(child, "SIGTERM")
            yield* Effect.timeoutOption(Deferred.await(closed), killGrace)
            yield* killGroup(child, "SIGKILL")
            return yield* failure("Timeout")
          }
          yield* Effect.timeoutOption(Deferred.await(closed), outputGrace)
          const { code, signal } = finished.value
          if (code === 0) return
          // killed by a signal: the exit code a shell would report
          const exitCode = code ?? 128 + (signal === null ? 0 : os.constants.signals[signal])
          return yield* failure("ExitCode", exitCode)
        }).pipe(
          // interrupted (the run was stopped): the hook goes with it
          Effect.onInterrupt(() => killGroup(child, "SIGKILL"))
        )
      }).pipe(
        Effect.withSpan("DeployHook.run", { attributes: { certificate, command } })
      )
  }
}

/**
 * Deploy hooks through `/bin/sh -c`, with a 5 minute timeout.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<DeployHook.DeployHook> = Layer.succeed(DeployHook.DeployHook, make())

/**
 * Deploy hooks through `/bin/sh -c`, with options (`timeout`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith = (options: Options): Layer.Layer<DeployHook.DeployHook> =>
  Layer.succeed(DeployHook.DeployHook, make(options))
