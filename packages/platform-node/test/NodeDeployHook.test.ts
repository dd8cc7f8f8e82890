import { NodeDeployHook } from "@acme/platform-node"
import { DeployHook } from "@acme/sdk"
import { FileSystem, Path } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Schedule } from "effect"
import * as nodeFs from "node:fs"

const environment = {
  ACME_CERT_NAME: "example",
  ACME_DOMAINS: "example.org www.example.org",
  ACME_SERIAL: "0a1b2c",
  ACME_CERT_PATH: "/etc/acme/live/example/cert.pem",
  ACME_CHAIN_PATH: "/etc/acme/live/example/chain.pem",
  ACME_FULLCHAIN_PATH: "/etc/acme/live/example/fullchain.pem",
  ACME_KEY_PATH: "/etc/acme/live/example/privkey.pem",
  ACME_LIVE_DIR: "/etc/acme/live/example"
}

/** running (a zombie, killed but not yet reaped by an init that takes its time, is not) */
const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  if (!nodeFs.existsSync(`/proc/${pid}/stat`)) return true
  try {
    return !/^\d+ \(.*\) Z /.test(nodeFs.readFileSync(`/proc/${pid}/stat`, "utf8"))
  } catch {
    return false
  }
}

describe("NodeDeployHook", () => {
  it.live("runs the command through /bin/sh with the process environment plus the hook's variables", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const folder = yield* fs.makeTempDirectoryScoped({ prefix: "acme-hook-" })
      const out = path.join(folder, "env.txt")
      const hook = yield* DeployHook.DeployHook
      yield* hook.run({ certificate: "example", command: `env > '${out}'`, environment })
      const lines = (yield* fs.readFileString(out)).split("\n")
      for (const [name, value] of Object.entries(environment)) expect(lines).toContain(`${name}=${value}`)
      expect(lines.some((line) => line.startsWith("PATH="))).toBe(true)
    }).pipe(Effect.provide(NodeDeployHook.layer), Effect.provide(NodeContext.layer), Effect.scoped))

  it.live("a failing command is ExitCode with its exit code and the last 20 lines of its output", () =>
    Effect.gen(function*() {
      const hook = yield* DeployHook.DeployHook
      const error = yield* Effect.flip(hook.run({
        certificate: "example",
        command: "for i in $(seq 1 30); do echo out$i; done; echo 'nginx: [emerg] bad config' >&2; exit 3",
        environment
      }))
      expect(error._tag).toBe("DeployHookError")
      expect(error.reason).toBe("ExitCode")
      expect(error.exitCode).toBe(3)
      expect(error.certificate).toBe("example")
      const lines = error.output.split("\n")
      expect(lines).toHaveLength(20)
      expect(lines.at(-1)).toBe("nginx: [emerg] bad config")
      expect(lines[0]).toBe("out12")
      expect(error.message).toContain("exited with code 3")
      expect(error.message).toContain("nginx: [emerg] bad config")
    }).pipe(Effect.provide(NodeDeployHook.layer)))

  it.live("a command that outlives the timeout is Timeout, and its whole process group is stopped", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const folder = yield* fs.makeTempDirectoryScoped({ prefix: "acme-hook-" })
      const pidFile = path.join(folder, "pid")
      const hook = yield* DeployHook.DeployHook
      const [elapsed, error] = yield* Effect.timed(Effect.flip(hook.run({
        certificate: "example",
        // a child of the shell that would outlive it if only the shell were killed
        command: `echo starting; sleep 30 & echo $! > '${pidFile}'; wait`,
        environment
      })))
      expect(error.reason).toBe("Timeout")
      expect(error.output).toBe("starting")
      expect(error.message).toContain("did not finish in time")
      expect(Duration.toMillis(elapsed)).toBeGreaterThanOrEqual(300)
      expect(Duration.toMillis(elapsed)).toBeLessThan(5_000)
      const pid = Number((yield* fs.readFileString(pidFile)).trim())
      expect(pid).toBeGreaterThan(0)
      yield* Effect.sleep("50 millis")
      expect(isAlive(pid)).toBe(false)
    }).pipe(
      Effect.provide(NodeDeployHook.layerWith({ timeout: "300 millis" })),
      Effect.provide(NodeContext.layer),
      Effect.scoped
    ))

  it.live("a command that ignores SIGTERM is killed (SIGKILL) after a grace period", () =>
    Effect.gen(function*() {
      const hook = yield* DeployHook.DeployHook
      const [elapsed, error] = yield* Effect.timed(Effect.flip(hook.run({
        certificate: "example",
        command: "trap '' TERM; echo stubborn; sleep 30",
        environment
      })))
      expect(error.reason).toBe("Timeout")
      expect(error.output).toBe("stubborn")
      expect(Duration.toMillis(elapsed)).toBeGreaterThanOrEqual(2_000)
      expect(Duration.toMillis(elapsed)).toBeLessThan(6_000)
    }).pipe(Effect.provide(NodeDeployHook.layerWith({ timeout: "300 millis" }))))

  it.live("an interrupted run stops the hook's whole process group", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const folder = yield* fs.makeTempDirectoryScoped({ prefix: "acme-hook-" })
      const pidFile = path.join(folder, "pid")
      const hook = yield* DeployHook.DeployHook
      const fiber = yield* Effect.fork(hook.run({
        certificate: "example",
        command: `sleep 30 & echo $! > '${pidFile}'; wait`,
        environment
      }))
      const pid = yield* fs.readFileString(pidFile).pipe(
        Effect.map((text) => Number(text.trim())),
        Effect.filterOrFail((pid) => pid > 0),
        Effect.retry({ schedule: Schedule.spaced("20 millis"), times: 100 })
      )
      expect(isAlive(pid)).toBe(true)
      yield* Fiber.interrupt(fiber)
      yield* Effect.sleep("50 millis")
      expect(isAlive(pid)).toBe(false)
    }).pipe(Effect.provide(NodeDeployHook.layer), Effect.provide(NodeContext.layer), Effect.scoped))

  it.live("the hook's stdin is at end of file (a hook that reads it does not wait for input)", () =>
    Effect.gen(function*() {
      const hook = yield* DeployHook.DeployHook
      const error = yield* Effect.flip(hook.run({ certificate: "example", command: "cat; echo read-done; exit 4", environment }))
      expect(error.exitCode).toBe(4)
      expect(error.output).toBe("read-done")
    }).pipe(Effect.provide(NodeDeployHook.layerWith({ timeout: "5 seconds" }))))

  it.live("a command that cannot be started is Spawn", () =>
    Effect.gen(function*() {
      const hook = yield* DeployHook.DeployHook
      const error = yield* Effect.flip(hook.run({ certificate: "example", command: "echo \u0000", environment }))
      expect(error.reason).toBe("Spawn")
      expect(error.message).toContain("could not be started")
    }).pipe(Effect.provide(NodeDeployHook.layer)))

  it.live("a command killed by a signal reports the exit code a shell would (128 + signal)", () =>
    Effect.gen(function*() {
      const hook = yield* DeployHook.DeployHook
      const error = yield* Effect.flip(hook.run({ certificate: "example", command: "kill -TERM $$", environment }))
      expect(error.reason).toBe("ExitCode")
      expect(error.exitCode).toBe(143)
    }).pipe(Effect.provide(NodeDeployHook.layer)))
})
