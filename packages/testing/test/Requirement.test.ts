import { Requirement } from "@acme/testing"
import { describe, expect, it } from "vitest"

const what = "a Pebble that offers ARI"
const missing = "run scripts/fetch-pebble-ari.sh or set PEBBLE_ARI_BIN"

describe("Requirement: a suite whose requirement is missing skips on a developer's machine and fails under CI", () => {
  it("runs when nothing is missing, CI or not", () => {
    expect(Requirement.decide({ what, missing: undefined, env: {} })).toEqual({ _tag: "Run" })
    expect(Requirement.decide({ what, missing: undefined, env: { CI: "true" } })).toEqual({ _tag: "Run" })
    expect(Requirement.note({ _tag: "Run" })).toBe("")
  })

  it("skips, saying what is missing and how to get it, when CI is not set", () => {
    for (const env of [{}, { CI: "" }, { CI: "false" }, { CI: "0" }, { CI: " FALSE " }]) {
      expect(Requirement.decide({ what, missing, env })).toEqual({ _tag: "Skip", what, reason: missing })
    }
    const skip = Requirement.decide({ what, missing, env: {} })
    expect(Requirement.note(skip)).toBe(` (skipped: needs ${what}: ${missing})`)
  })

  it("fails under CI (CI=true, CI=1, any other value)", () => {
    for (const env of [{ CI: "true" }, { CI: "1" }, { CI: "yes" }, { CI: "TRUE" }]) {
      expect(Requirement.decide({ what, missing, env })).toEqual({ _tag: "Fail", what, reason: missing })
    }
    const fail = Requirement.decide({ what, missing, env: { CI: "true" } })
    expect(Requirement.message(fail)).toBe(
      `needs ${what}: ${missing} (CI is set, so a missing requirement fails the run instead of skipping the suite)`
    )
  })

  it("reads CI from the process environment by default", () => {
    const saved = process.env["CI"]
    try {
      process.env["CI"] = "true"
      expect(Requirement.isCI()).toBe(true)
      expect(Requirement.decide({ what, missing })._tag).toBe("Fail")
      delete process.env["CI"]
      expect(Requirement.isCI()).toBe(false)
      expect(Requirement.decide({ what, missing })._tag).toBe("Skip")
    } finally {
      if (saved === undefined) delete process.env["CI"]
      else process.env["CI"] = saved
    }
  })
})
