/**
 * Runs one process and measures it: wall time (from here, `performance.now` around spawn and exit),
 * CPU seconds (user + system) and peak RSS, both from GNU time (`/usr/bin/time`, the kernel's
 * `wait4` rusage of the process and the children it waited for).
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

/**
 * @since 0.1.0
 * @category models
 */
export interface Command {
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly env?: Readonly<Record<string, string>> | undefined
  readonly cwd?: string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Sample {
  readonly wallMs: number
  readonly cpuMs: number
  readonly maxRssKiB: number
  readonly stdout: string
}

/**
 * A process that did not exit with 0.
 *
 * @since 0.1.0
 * @category errors
 */
export class CommandFailed extends Error {
  readonly _tag = "CommandFailed"
}

/** GNU time, installed by bench/setup.sh */
export const timeBinary = "/usr/bin/time"

/**
 * Runs the command under GNU time and returns what it measured; fails with the last lines of the
 * command's output when it exits with another code than 0.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (command: Command): Effect.Effect<Sample, CommandFailed> =>
  Effect.async<Sample, CommandFailed>((resume) => {
    const report = path.join(os.tmpdir(), `bench-time-${process.pid}-${Math.random().toString(36).slice(2)}`)
    const started = performance.now()
    const child = spawn(timeBinary, ["-f", "%e %U %S %M", "-o", report, command.command, ...command.args], {
      cwd: command.cwd,
      env: { ...process.env, ...command.env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8")
    })
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8")
    })
    child.on("error", (error) => resume(Effect.fail(new CommandFailed(`${command.command}: ${error.message}`))))
    child.on("close", (code) => {
      const wallMs = performance.now() - started
      const measured = fs.existsSync(report) ? fs.readFileSync(report, "utf8").trim().split("\n").at(-1) ?? "" : ""
      fs.rmSync(report, { force: true })
      if (code !== 0) {
        const tail = `${stdout}\n${stderr}`.trim().split("\n").slice(-15).join("\n")
        resume(Effect.fail(new CommandFailed(`${command.command} ${command.args.join(" ")} exited with ${code}:\n${tail}`)))
        return
      }
      const [, user = "0", system = "0", rss = "0"] = measured.split(" ")
      resume(Effect.succeed({
        wallMs,
        cpuMs: (Number(user) + Number(system)) * 1000,
        maxRssKiB: Number(rss),
        stdout
      }))
    })
  })

/**
 * @since 0.1.0
 * @category statistics
 */
export const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] ?? Number.NaN : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2
}

/**
 * @since 0.1.0
 * @category statistics
 */
export const mean = (values: ReadonlyArray<number>): number =>
  values.length === 0 ? Number.NaN : values.reduce((sum, value) => sum + value, 0) / values.length
