/**
 * In process: where each kind of text goes (through a replaced Output service), and the text
 * summary of a run (the planner's line and the prose summary).
 */
import type { Reporter } from "@acme/sdk"
import { it as effectIt } from "@effect/vitest"
import { DateTime, Effect } from "effect"
import { describe, expect, it } from "vitest"
import * as Output from "../src/Output.js"

/** an Output over two recording streams; `stderr` is a terminal when `isTTY` */
const recording = (isTTY: boolean) => {
  const written = { stdout: "", stderr: "" }
  const service = Output.make({
    stdout: { write: (text) => (written.stdout += text) },
    stderr: { isTTY, columns: 30, write: (text) => (written.stderr += text) }
  })
  return { written, provide: Effect.provideService(Output.Output, service) }
}

describe("Output: stdout holds the result, stderr everything else", () => {
  effectIt.effect("off a terminal: progress and logs are timestamped lines on stderr; JSON alone on stdout", () =>
    Effect.gen(function*() {
      const { provide, written } = recording(false)
      yield* Effect.gen(function*() {
        yield* Output.progress.emit({ _tag: "RunStarted", runId: "run-1", resumed: false })
        yield* Output.progress.emit({ _tag: "StageStarted", certificate: "web", stage: "order" })
        yield* Effect.logWarning("rate limited")
        yield* Output.json({ ok: true }).pipe(Output.withStatus("not shown off a terminal"))
      }).pipe(Effect.provide(Output.loggerLayer), provide)
      expect(written.stdout).toBe(`{\n  "ok": true\n}\n`)
      expect(written.stderr).toBe(
        "1970-01-01T00:00:00Z run run-1 started\n" +
          "1970-01-01T00:00:00Z web: stage order started\n" +
          "1970-01-01T00:00:00Z warning: rate limited\n"
      )
    }))

  effectIt.effect("on a terminal: one status line, redrawn below each log line, cleared at the end", () =>
    Effect.gen(function*() {
      const { provide, written } = recording(true)
      yield* Effect.gen(function*() {
        yield* Output.progress.emit({ _tag: "StageStarted", certificate: "web", stage: "a-very-long-stage-name-indeed" })
        yield* Effect.logInfo("hello")
        yield* Output.lines(["done"])
      }).pipe(Output.withStatus("starting…"), Effect.provide(Output.loggerLayer), provide)
      const clear = "\r\u001b[2K"
      // the status line is fitted to the terminal's 30 columns
      const status = "web: a-very-long-stage-name-…"
      expect(written.stderr).toBe(`starting…${clear}${status}${clear}hello\n${status}${clear}`)
      expect(written.stdout).toBe("done\n")
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
