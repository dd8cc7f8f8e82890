/**
 * The text summary of a run, in process: the planner's line and the prose summary.
 */
import type { Reporter } from "@acme/sdk"
import { DateTime } from "effect"
import { describe, expect, it } from "vitest"
import * as Output from "../src/Output.js"

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
