/**
 * In process: where each kind of text goes (through a replaced Output service), and the text
 * summary of a run (the planner's line and the prose summary).
 */
import type { Reporter } from "@acme/sdk"
import { it as effectIt } from "@effect/vitest"
import { DateTime, Effect } from "effect"
import { describe, expect, it } from "vitest"
import * as Common from "../src/Common.js"
import * as Output from "../src/Output.js"

/** an Output that keeps nothing */
const silent = Output.make({ stdout: { write: () => {} }, stderr: { isTTY: false, columns: 80, write: () => {} } })

/** an Output over two recording streams; `stderr` is a terminal when `isTTY` */
const recording = (isTTY: boolean, columns = 30) => {
  const written = { stdout: "", stderr: "" }
  const service = Output.make({
    stdout: { write: (text) => (written.stdout += text) },
    stderr: { isTTY, columns, write: (text) => (written.stderr += text) }
  })
  return { written, provide: Effect.provideService(Output.Output, service) }
}

describe("Output: stdout holds the result, stderr everything else", () => {
  effectIt.effect("off a terminal: progress and logs are timestamped lines on stderr; JSON alone on stdout", () =>
    Effect.gen(function*() {
      const { provide, written } = recording(false)
      yield* Effect.gen(function*() {
        yield* Output.progress.emit({
          _tag: "RunStarted",
          runId: "run-1",
          resumed: false,
          directoryUrl: "https://ca.example/dir"
        })
        yield* Output.progress.emit({ _tag: "StageStarted", certificate: "web", stage: "order" })
        yield* Effect.logWarning("rate limited")
        yield* Output.json({ ok: true }).pipe(Output.withStatus("not shown off a terminal"))
      }).pipe(Effect.provide(Output.loggerLayer), provide)
      expect(written.stdout).toBe(`{\n  "ok": true\n}\n`)
      expect(written.stderr).toBe(
        "1970-01-01T00:00:00Z run run-1 started (CA https://ca.example/dir)\n" +
          "1970-01-01T00:00:00Z web: stage order started\n" +
          "1970-01-01T00:00:00Z warning: rate limited\n"
      )
    }))

  effectIt.effect("on a terminal: one status line, redrawn below each log line, cleared at the end", () =>
    Effect.gen(function*() {
      const { provide, written } = recording(true)
      yield* Effect.gen(function*() {
        yield* Output.progress.emit({ _tag: "StageStarted", certificate: "a-very-long-certificate-name", stage: "order" })
        yield* Effect.logInfo("hello")
        yield* Output.lines(["done"])
      }).pipe(Output.withStatus("starting…"), Effect.provide(Output.loggerLayer), provide)
      const clear = "\r\u001b[2K"
      // the status line is fitted to the terminal's 30 columns
      const status = "a-very-long-certificate-name…"
      expect(written.stderr).toBe(`starting…${clear}${status}${clear}hello\n${status}${clear}`)
      expect(written.stdout).toBe("done\n")
    }))
})

describe("Output on a terminal: what happens, and each error once", () => {
  effectIt.effect("the status line says what a stage does; errorHandler and scheduler leave the retry's line", () =>
    Effect.gen(function*() {
      const { provide, written } = recording(true, 100)
      const statusLines: Array<string> = []
      yield* Effect.gen(function*() {
        const error = "cannot reach the CA at GET https://ca/dir"
        yield* Effect.logWarning(`cannot read the CA's directory (${error}); planning without renewal info`)
        for (const attempt of [2, 3]) {
          yield* Output.progress.emit({ _tag: "StageStarted", certificate: "web", stage: "order" })
          yield* Output.progress.emit({ _tag: "StageStarted", certificate: "web", stage: "errorHandler" })
          yield* Output.progress.emit({ _tag: "Retrying", certificate: "web", stage: "order", attempt, waitMillis: 4000, error })
          yield* Effect.logWarning(`web: order failed (${error}); attempt ${attempt} of 3 in 4 s`)
          yield* Output.progress.emit({ _tag: "StageStarted", certificate: "web", stage: "scheduler" })
        }
      }).pipe(Effect.provide(Output.loggerLayer), provide)
      for (const part of written.stderr.split("\r\u001b[2K")) statusLines.push(part)
      // the error was printed by the first warning: the retries' warnings that repeat it are left out
      expect(written.stderr.match(/cannot reach the CA/g)).toHaveLength(1)
      expect(statusLines).toContain("web: placing the order…")
      expect(statusLines).toContain("web: waiting 4 s before retrying order (attempt 3)…")
      expect(written.stderr).not.toMatch(/errorHandler|scheduler/)
    }))

  effectIt.effect("off a terminal every warning is a line of its own (a log keeps them all)", () =>
    Effect.gen(function*() {
      const { provide, written } = recording(false)
      yield* Effect.gen(function*() {
        for (const attempt of [2, 3]) {
          yield* Output.progress.emit({ _tag: "Retrying", certificate: "web", stage: "order", attempt, waitMillis: 4000, error: "boom" })
          yield* Effect.logWarning(`web: order failed (boom); attempt ${attempt} of 3 in 4 s`)
        }
      }).pipe(Effect.provide(Output.loggerLayer), provide)
      expect(written.stderr.match(/boom/g)).toHaveLength(2)
    }))
})

const NOW = DateTime.unsafeMake("2026-11-23T12:00:00Z")

const report = (patch: Partial<Reporter.RunReport> = {}): Reporter.RunReport => ({
  version: 1,
  command: "renew",
  runId: "run-1",
  directoryUrl: "https://ca.example/dir",
  resumed: false,
  dryRun: false,
  planner: { provider: "deterministic", fallback: false, dropped: [], restored: [], disagreements: [] },
  certificates: [
    { name: "web", domains: ["example.org"], action: "renewed", reason: "there is no certificate yet" },
    { name: "mail", domains: ["mail.example.org"], action: "skipped", reason: "50 days left of 90 days" }
  ],
  ...patch
})

describe("Output.reportLines", () => {
  it("says which renewals were ARI replacements, which certificates were postponed and until when, and why the run stopped", () => {
    const lines = Output.reportLines(
      report({
        certificates: [
          {
            name: "web",
            domains: ["example.org"],
            action: "renewed",
            reason: "the CA's renewal window has begun",
            replaced: "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"
          },
          {
            name: "mail",
            domains: ["mail.example.org"],
            action: "postponed",
            reason: "rate limited at newOrder: the CA asks to wait 2h, more than renewal.maxWait (1h)",
            notBefore: "2026-11-23T14:00:00.000Z"
          }
        ],
        stopped: "reached renewal.maxRunTime (30m)"
      }),
      NOW
    )
    expect(lines).toEqual([
      "renewed   web   the CA's renewal window has begun; ARI replacement (replaces aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE)",
      "postponed mail  rate limited at newOrder: the CA asks to wait 2h, more than renewal.maxWait (1h); next attempt not before 2026-11-23 14:00 UTC",
      "1 renewed, 0 skipped, 0 failed, 1 postponed",
      "stopped: reached renewal.maxRunTime (30m)"
    ])
  })

  it("a postponed certificate makes the run exit 1, with a message that says so", () => {
    const postponed = report({
      certificates: [{ name: "mail", domains: ["mail.example.org"], action: "postponed", reason: "rate limited" }]
    })
    const error = Effect.runSync(Effect.flip(Common.finish(postponed, true).pipe(Effect.provideService(Output.Output, silent))))
    expect(error._tag).toBe("CertificatesFailed")
    expect(error.message).toBe("1 of 1 certificate postponed to the next run (mail); the report says why")
    expect(Effect.runSync(Effect.either(Common.finish(report(), true).pipe(Effect.provideService(Output.Output, silent))))._tag)
      .toBe("Right")
  })

  it("prints no planner line for the deterministic planner, and no summary without an LLM reporter", () => {
    expect(Output.reportLines(report(), NOW)).toEqual([
      "renewed  web   there is no certificate yet",
      "skipped  mail  50 days left of 90 days",
      "1 renewed, 1 skipped, 0 failed"
    ])
  })

  it("says what the guards did to an LLM planner's answer, and prints the prose summary last", () => {
    const lines = Output.reportLines(
      report({
        planner: {
          provider: "openai-compatible",
          model: "llama3.1",
          fallback: false,
          dropped: ["ghost", "shop"],
          restored: ["web"],
          disagreements: [{ name: "mail", advised: "renew", kept: "skip" }]
        },
        summary: "One certificate was renewed."
      }),
      NOW
    )
    expect(lines.slice(3)).toEqual([
      "planner  openai-compatible (llama3.1): advice taken (order and notes); dropped ghost, shop (not configured); " +
      "restored web (left out of its answer); ignored its renew for mail (the deterministic decision was kept)",
      "",
      "One certificate was renewed."
    ])
  })

  it("says when the LLM planner's answer was not used, and why", () => {
    const lines = Output.reportLines(
      report({
        planner: {
          provider: "anthropic",
          model: "claude-haiku-4-5",
          fallback: true,
          fallbackReason: "the model did not answer within 30 seconds",
          dropped: [],
          restored: [],
          disagreements: []
        }
      }),
      NOW
    )
    expect(lines.at(-1)).toBe(
      "planner  anthropic (claude-haiku-4-5): not used (the model did not answer within 30 seconds); the deterministic plan was followed"
    )
  })
})
