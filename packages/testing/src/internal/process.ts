/**
 * A child process whose stdout and stderr are drained continuously (so it never blocks on a full
 * pipe), keeping the last lines for error messages. It is killed (SIGTERM to its process group, then
 * awaited) when the scope closes: that is `Command.start`'s own finalizer.
 */
import * as Command from "@effect/platform/Command"
import type * as CommandExecutor from "@effect/platform/CommandExecutor"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import * as NodeCommandExecutor from "@effect/platform-node/NodeCommandExecutor"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { PebbleError } from "../PebbleError.js"

/** @internal */
export const tailSize = 200

/** @internal */
export interface Running {
  readonly name: string
  readonly pid: number
  /** the last {@link tailSize} lines of stdout and stderr, oldest first */
  readonly tail: Effect.Effect<ReadonlyArray<string>>
  /** completes (after the output is drained) once the process has exited, describing how */
  readonly exited: Effect.Effect<string>
}

/**
 * A shell that waits for its stdin to close, then SIGTERMs the given process groups (each child is
 * its own group leader: `Command.start` spawns them detached) and removes the temporary directory.
 * Its stdin is a pipe from this process, which the kernel closes when this process dies in any way,
 * even SIGKILL: so Pebble and challtestsrv do not outlive a test runner that is killed before its
 * finalizers run. In a normal shutdown it is stopped first, by its own finalizer, and does nothing.
 *
 * @internal
 */
export const watchdog = (
  pids: ReadonlyArray<number>,
  temporaryDirectory: string
): Effect.Effect<void, PebbleError, CommandExecutor.CommandExecutor | Scope.Scope> =>
  Command.start(
    Command.make(
      "/bin/sh",
      "-c",
      [
        "dir=$1; shift",
        "while read -r _; do :; done",
        "for p in \"$@\"; do kill -TERM -\"$p\" 2>/dev/null || kill -TERM \"$p\" 2>/dev/null; done",
        "sleep 1",
        // only ever a directory this harness made
        "case \"$dir\" in */acme-testing-pebble-*) rm -rf -- \"$dir\" ;; esac"
      ].join("\n"),
      "acme-testing-watchdog",
      temporaryDirectory,
      ...pids.map(String)
    ).pipe(Command.stdin("pipe"), Command.stdout("inherit"), Command.stderr("inherit"))
  ).pipe(
    Effect.asVoid,
    Effect.mapError((error) =>
      new PebbleError({ reason: "StartFailed", message: `could not start the process watchdog: ${error.message}` })
    )
  )

/** @internal */
export const formatTail = (lines: ReadonlyArray<string>): string =>
  lines.length === 0 ? "(no output)" : lines.join("\n")

/** @internal */
export const start = (
  name: string,
  command: Command.Command,
  options: { readonly verbose: boolean }
): Effect.Effect<Running, PebbleError, CommandExecutor.CommandExecutor | Scope.Scope> =>
  Effect.gen(function*() {
    const process = yield* Command.start(command).pipe(
      Effect.mapError((error) =>
        new PebbleError({ reason: "StartFailed", message: `could not start ${name}: ${error.message}` })
      )
    )
    const lines = yield* Ref.make<ReadonlyArray<string>>([])
    const record = (line: string) =>
      Ref.update(lines, (kept) => kept.length < tailSize ? [...kept, line] : [...kept.slice(1 - tailSize), line]).pipe(
        Effect.zipRight(options.verbose ? Console.error(`[${name}] ${line}`) : Effect.void)
      )
    const drain = (output: Stream.Stream<Uint8Array, unknown>) =>
      output.pipe(Stream.decodeText(), Stream.splitLines, Stream.runForEach(record), Effect.ignore, Effect.forkScoped)
    const drains = [yield* drain(process.stdout), yield* drain(process.stderr)]
    const exited = process.exitCode.pipe(
      Effect.map((code) => `exited with code ${code}`),
      Effect.catchAll((error) => Effect.succeed(`stopped: ${error.message}`)),
      // the pipes close with the process, so the drains end at once unless something it started still
      // holds them: wait for its last words (a retry on a taken port reads them), bounded for that case
      Effect.tap(() => Fiber.joinAll(drains).pipe(Effect.timeout("10 seconds"), Effect.ignore))
    )
    return { name, pid: process.pid, tail: Ref.get(lines), exited }
  })

/**
 * Runs `startOnce` again (up to `times` more times) while `retryWhile` says its failure is worth
 * another try (a free port taken before the process bound it). Each attempt gets its own scope,
 * forked from the caller's, so a failed attempt's processes are gone before the next one starts.
 *
 * @internal
 */
export const startRetrying = <A, E, R>(
  startOnce: Effect.Effect<A, E, R | Scope.Scope>,
  options: { readonly times: number; readonly while: (error: E) => boolean }
): Effect.Effect<A, E, Exclude<R, Scope.Scope> | Scope.Scope> =>
  Effect.gen(function*() {
    const outer = yield* Effect.scope
    return yield* Effect.gen(function*() {
      const scope = yield* Scope.fork(outer, ExecutionStrategy.sequential)
      return yield* startOnce.pipe(
        Scope.extend(scope),
        Effect.onExit((exit) => Exit.isFailure(exit) ? Scope.close(scope, exit) : Effect.void)
      )
    }).pipe(Effect.retry(options))
  })

/** only what starting the processes needs: no Terminal, no Worker */
const hostLayer = Layer.mergeAll(NodeCommandExecutor.layer, NodePath.layer).pipe(
  Layer.provideMerge(NodeFileSystem.layer)
)

/**
 * Runs the start of a harness's processes with Node's command executor, file system and path, on a
 * live clock even under @effect/vitest's TestClock (it waits on real processes: a `layer(...)`
 * without `excludeTestServices` would otherwise never see a poll interval pass).
 *
 * @internal
 */
export const onHost = <A, E, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E, Exclude<R, CommandExecutor.CommandExecutor | FileSystem.FileSystem | Path.Path>> =>
  effect.pipe(Effect.provide(hostLayer), Effect.withClock(Clock.make()))
