/**
 * The bounds the docs list are the ones the code has: every named default in `Waits` appears in
 * docs/architecture.md and docs/configuration.md, and each value written next to its name there is
 * its value here (a default changed in one place and not the other fails this test).
 */
import { Waits } from "@acme/sdk"
import { Duration } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"

const docs = path.join(import.meta.dirname, "..", "..", "..", "docs")
const read = (file: string) => fs.readFileSync(path.join(docs, file), "utf8")

/** every `Waits.default*` constant, by name, as a number: milliseconds for a duration, else the number */
const defaults: ReadonlyMap<string, number> = new Map(
  Object.entries(Waits).flatMap(([name, value]) =>
    !name.startsWith("default")
      ? []
      : typeof value === "number"
      ? [[name, value] as const]
      : Duration.isDuration(value)
      ? [[name, Duration.toMillis(value)] as const]
      : []
  )
)

const unitValue: { readonly [unit: string]: number } = {
  ms: 1,
  s: 1000,
  second: 1000,
  min: 60_000,
  minute: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
  MiB: 1024 * 1024
}

/** `30 seconds` → 30000, `1 MiB` → 1048576, `40 retries` / `5` → the number */
const valueOf = (text: string): number => {
  const match = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/.exec(text.trim())
  if (match === null) return Number.NaN
  const unit = unitValue[match[2]?.replace(/s$/, "") ?? ""] ?? unitValue[match[2] ?? ""] ?? 1
  return Number(match[1]) * unit
}

/** each (name, written value) pair a document states */
const stated = (text: string, patterns: ReadonlyArray<RegExp>): Array<readonly [string, string]> =>
  patterns.flatMap((pattern) => [...text.matchAll(pattern)].map((m) => [m.groups?.name ?? "", m.groups?.value ?? ""] as const))

describe("the documented bounds are the code's", () => {
  it("reads the values it checks (the parser itself)", () => {
    expect(valueOf("30 seconds")).toBe(30_000)
    expect(valueOf("250 ms")).toBe(250)
    expect(valueOf("3 min")).toBe(180_000)
    expect(valueOf("1 hour")).toBe(3_600_000)
    expect(valueOf("1 MiB")).toBe(1_048_576)
    expect(valueOf("40 retries")).toBe(40)
    expect(defaults.get("defaultRequestTimeout")).toBe(30_000)
    expect(defaults.size).toBeGreaterThanOrEqual(12)
  })

  it.each([
    [
      "architecture.md",
      [
        /`(?:Waits\.)?(?<name>default\w+)` \((?<value>[^)]+)\)/g,
        /\| `Waits\.(?<name>default\w+)` \|[^|]*\| (?<value>[^|]+?) \|/g
      ]
    ],
    ["configuration.md", [/(?<value>\d+(?:\.\d+)? ?[A-Za-z]*) \(`Waits\.(?<name>default\w+)`/g]]
  ])("%s names every Waits default, each with its value", (file, patterns) => {
    const pairs = stated(read(file), patterns)
    const named = new Set(pairs.map(([name]) => name))
    expect([...defaults.keys()].filter((name) => !named.has(name)), `defaults ${file} does not name`).toEqual([])
    for (const [name, value] of pairs) {
      expect(defaults.has(name), `${file} names Waits.${name}, which does not exist`).toBe(true)
      expect(valueOf(value), `${file}: Waits.${name} is written as "${value}"`).toBe(defaults.get(name))
    }
  })
})
