import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Cp from "node:child_process"
import * as Fs from "node:fs"
import * as Url from "node:url"

// Finalizers cannot run when the test runner is SIGKILLed; a watchdog per harness (a shell reading
// a pipe from the runner) must then stop Pebble and challtestsrv. This file is slow only because it
// loads Effect, @effect/platform and undici into a second Node process (about 3 s here).

const isAlive = (pid: number) => Fs.existsSync(`/proc/${pid}`) && !Fs.readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ")

interface Ids {
  readonly pebble: number
  readonly challtestsrv: number
  readonly tempDirectory: string
}

describe("watchdog", () => {
  it.live("Pebble and challtestsrv die, and the temporary directory goes, with a runner SIGKILLed before its finalizers run", () =>
    Effect.gen(function*() {
      const fixture = Url.fileURLToPath(new URL("fixtures/startAndWait.ts", import.meta.url))
      const runner = yield* Effect.acquireRelease(
        Effect.sync(() => Cp.spawn(process.execPath, ["--import", "tsx", fixture], { stdio: ["ignore", "pipe", "inherit"] })),
        (child) => Effect.sync(() => child.kill("SIGKILL"))
      )
      const ids = yield* Effect.async<Ids>((resume) => {
        let buffered = ""
        runner.stdout.on("data", (chunk: Buffer) => {
          buffered += chunk.toString("utf8")
          if (buffered.includes("\n")) resume(Effect.succeed(JSON.parse(buffered) as Ids)) // test: our fixture's one line
        })
      }).pipe(Effect.timeout("30 seconds"))
      expect(isAlive(ids.pebble) && isAlive(ids.challtestsrv)).toBe(true)
      expect(Fs.existsSync(ids.tempDirectory)).toBe(true)

      runner.kill("SIGKILL")
      // bounded waits (15 s each), generous for a CI machine running every suite at once
      for (let i = 0; i < 750 && (isAlive(ids.pebble) || isAlive(ids.challtestsrv)); i++) {
        yield* Effect.sleep("20 millis")
      }
      expect(isAlive(ids.pebble)).toBe(false)
      expect(isAlive(ids.challtestsrv)).toBe(false)
      // the watchdog gives them a second to exit, then removes the temporary directory
      for (let i = 0; i < 750 && Fs.existsSync(ids.tempDirectory); i++) yield* Effect.sleep("20 millis")
      expect(Fs.existsSync(ids.tempDirectory)).toBe(false)
    }).pipe(Effect.scoped))
})
