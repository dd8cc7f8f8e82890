/**
 * `acme demo` runs to completion: its own Pebble, two certificates, status, a no-op renewal, clean-up.
 */
import * as fs from "node:fs"
import { describe, expect, it } from "vitest"
import { acme } from "./support/cli.js"

describe("acme demo", () => {
  it("runs to completion and cleans up after itself", async () => {
    const result = await acme(["demo"])
    expect(result.code).toBe(0)
    const out = result.stdout
    expect(out).toMatch(/^ +renewed +demo-web /m)
    expect(out).toMatch(/^ +renewed +demo-wildcard /m)
    expect(out).toMatch(/^ +skipped +demo-web /m)
    expect(out).toContain("2 renewed, 0 skipped, 0 failed")
    expect(out).toContain("0 renewed, 2 skipped, 0 failed")
    expect(out).toMatch(/next +renew later at /)
    const folder = /^Removed (\S+) /m.exec(out)?.[1]
    expect(folder).toBeDefined()
    expect(fs.existsSync(folder ?? "")).toBe(false)
    expect(result.stderr).not.toMatch(/^acme: /m)
  }, 120_000)
})
