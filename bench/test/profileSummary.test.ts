import { describe, expect, it } from "vitest"
import { type CpuProfile, bundleGlue, packageOf, type SourceMapFile, summarize } from "../src/profileSummary.js"

const root = "/repo"
const chunk = "file:///repo/bench/.cache/profile/cli/acme-chunk-A.mjs"
const entry = "file:///repo/bench/.cache/profile/cli/acme.mjs"

// chunk A's generated lines 1–4 (0-based), each from one original file:
//   line 1, column 10 → effect/src/Schema.ts line 5; line 2 → effect/src/internal/fiberRuntime.ts line 10;
//   line 3 → undici/index.js line 1; line 4 → packages/sdk/src/Renewal.ts line 12
const map: typeof SourceMapFile.Type = {
  version: 3,
  sources: [
    "../../../../node_modules/.pnpm/effect@3.22.4/node_modules/effect/src/Schema.ts",
    "../../../../node_modules/.pnpm/effect@3.22.4/node_modules/effect/src/internal/fiberRuntime.ts",
    "../../../../node_modules/.pnpm/undici@7.10.0/node_modules/undici/index.js",
    "../../../../packages/sdk/src/Renewal.ts"
  ],
  names: [],
  mappings: "AAAA;UAIA;ACKA;ACTA;ACWA"
}

const frame = (functionName: string, url: string, lineNumber: number, columnNumber: number) => ({
  functionName,
  url,
  lineNumber,
  columnNumber
})

// the call tree:
//   (root) ─┬ (program), (idle), (garbage collector)
//           ├ run (node's ES module loader) → chunk A's top level → Struct (Schema.ts)
//           ├ the entry's top level, resumed after `await import()` → runLoop (fiberRuntime.ts) → JSON.parse (no script)
//           ├ undici's module wrapper (esbuild names it after its path) → Renewal.ts's function
//           ├ read (node:fs)
//           └ __toESM (esbuild's helper, not in the source map)
const nodes: (typeof CpuProfile.Type)["nodes"] = [
  { id: 1, callFrame: frame("(root)", "", -1, -1), children: [2, 3, 4, 5, 8, 11, 13, 14] },
  { id: 2, callFrame: frame("(program)", "", -1, -1) },
  { id: 3, callFrame: frame("(idle)", "", -1, -1) },
  { id: 4, callFrame: frame("(garbage collector)", "", -1, -1) },
  { id: 5, callFrame: frame("run", "node:internal/modules/esm/module_job", 316, 10), children: [6] },
  { id: 6, callFrame: frame("", chunk, 0, 0), children: [7] },
  { id: 7, callFrame: frame("Struct", chunk, 1, 10) },
  { id: 8, callFrame: frame("", entry, 0, 0), children: [9] },
  { id: 9, callFrame: frame("runLoop", chunk, 2, 0), children: [10] },
  { id: 10, callFrame: frame("parse", "", -1, -1) },
  {
    id: 11,
    callFrame: frame("../../node_modules/.pnpm/undici@7.10.0/node_modules/undici/index.js", chunk, 3, 0),
    children: [12]
  },
  { id: 12, callFrame: frame("renew", chunk, 4, 0) },
  { id: 13, callFrame: frame("read", "node:fs", 10, 2) },
  // esbuild's helper, on a line of chunk A the source map has nothing for
  { id: 14, callFrame: frame("__toESM", chunk, 5, 3) }
]

// samples 1 ms apart (the first at 1 ms after the start), each lasting until the next;
// the last one until endTime
const samples = [2, 3, 3, 4, 7, 7, 7, 6, 10, 10, 9, 12, 11, 13, 14, 3]
const profile: typeof CpuProfile.Type = {
  nodes,
  startTime: 0,
  endTime: 17_000,
  samples,
  timeDeltas: samples.map(() => 1000)
}

describe("summarize", () => {
  const summary = summarize(profile, { sourceMaps: new Map([[chunk, map]]), root })

  it("splits the covered time into idle, GC, program, module loading and the command's work", () => {
    expect(summary.samples).toBe(16)
    // from the first sample (1 ms) to the end (17 ms)
    expect(summary.coveredMs).toBe(16)
    expect(summary.idleMs).toBe(3)
    expect(summary.gcMs).toBe(1)
    expect(summary.programMs).toBe(1)
    // Struct ×3 and chunk A's top level under the loader; the undici wrapper and what it calls
    expect(summary.startupMs).toBe(6)
    // JSON.parse ×2 and runLoop under the resumed entry; read; __toESM
    expect(summary.commandMs).toBe(5)
  })

  it("gives self time to the innermost frame with a script, by package through the source map", () => {
    const byName = Object.fromEntries(summary.packages.map((p) => [p.name, p]))
    expect(byName).toEqual({
      effect: { name: "effect", startupMs: 3, commandMs: 3 },
      [bundleGlue]: { name: bundleGlue, startupMs: 1, commandMs: 1 },
      undici: { name: "undici", startupMs: 1, commandMs: 0 },
      "@acme/sdk": { name: "@acme/sdk", startupMs: 1, commandMs: 0 },
      "node internals": { name: "node internals", startupMs: 0, commandMs: 1 }
    })
    expect(summary.packages[0]?.name).toBe("effect")
  })

  it("lists the functions by self time with their original file and line", () => {
    expect(summary.functions.slice(0, 2)).toEqual([
      { name: "Struct", location: "effect/src/Schema.ts:5", package: "effect", selfMs: 3 },
      { name: "runLoop", location: "effect/src/internal/fiberRuntime.ts:10", package: "effect", selfMs: 3 }
    ])
    expect(summary.functions.map((f) => f.location)).toContain("packages/sdk/src/Renewal.ts:12")
    expect(summary.functions.map((f) => f.name)).toContain("(module body) undici/index.js")
    expect(summary.functions).toHaveLength(7)
    expect(summary.functions).toContainEqual({
      name: "__toESM",
      location: "bench/.cache/profile/cli/acme-chunk-A.mjs:6",
      package: bundleGlue,
      selfMs: 1
    })
    expect(summarize(profile, { sourceMaps: new Map([[chunk, map]]), root, top: 1 }).functions).toHaveLength(1)
  })

  it("without a source map, names the bundle file itself", () => {
    const unmapped = summarize(profile, { sourceMaps: new Map(), root })
    expect(unmapped.functions[0]).toEqual({
      name: "Struct",
      location: "bench/.cache/profile/cli/acme-chunk-A.mjs:2",
      package: "native/other",
      selfMs: 3
    })
    expect(unmapped.startupMs).toBe(6)
  })
})

describe("packageOf", () => {
  it("names the package of a file", () => {
    expect(packageOf("node_modules/.pnpm/@effect+cli@0.77.2/node_modules/@effect/cli/src/Command.ts")).toBe("@effect/cli")
    expect(packageOf("node_modules/.pnpm/x/node_modules/@effect/platform-node/src/a.ts")).toBe("@effect/platform*")
    expect(packageOf("node_modules/.pnpm/x/node_modules/asn1js/build/index.es.js")).toBe("@peculiar/x509, asn1js & co")
    expect(packageOf("node_modules/.pnpm/x/node_modules/@peculiar/asn1-schema/build/es2015/index.js")).toBe(
      "@peculiar/x509, asn1js & co"
    )
    expect(packageOf("packages/platform-node/src/NodeAcmeHttpClient.ts")).toBe("@acme/platform-node")
    expect(packageOf("apps/cli/src/bin.ts")).toBe("@acme/cli")
    expect(packageOf("node:internal/modules/esm/utils")).toBe("node internals")
    expect(packageOf("bench/.cache/profile/cli/acme.mjs")).toBe("native/other")
  })
})
