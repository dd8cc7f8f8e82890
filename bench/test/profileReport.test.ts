import { describe, expect, it } from "vitest"
import type { Profiled } from "../src/profile.js"
import { section } from "../src/profileReport.js"

const MiB = 1048576

const profiled = (memory: Profiled["memory"]): Profiled => ({
  target: "batch",
  command: "node --cpu-prof acme renew --config <20 new certificates>",
  certificates: 20,
  wallMs: 4000,
  cpuMs: 4200,
  maxRssKiB: 150 * 1024,
  requests: 142,
  file: "bench/.cache/profile/raw/batch/CPU.cpuprofile",
  summary: {
    samples: 8000,
    intervalMs: 0.5,
    coveredMs: 4000,
    idleMs: 1000,
    gcMs: 200,
    programMs: 100,
    startupMs: 400,
    commandMs: 2300,
    packages: [{ name: "effect", startupMs: 200, commandMs: 1200 }],
    functions: [{ name: "runLoop", location: "effect/src/internal/fiberRuntime.ts:10", package: "effect", selfMs: 300 }]
  },
  memory
})

describe("a profile's section", () => {
  it("says what the highest RSS was made of and what 100 MiB would need", () => {
    const text = section(
      profiled({
        rss: 150 * MiB,
        heapTotal: 100 * MiB,
        heapUsed: 40 * MiB,
        external: 6 * MiB,
        arrayBuffers: 1 * MiB,
        spaces: { new_space: 32 * MiB, old_space: 60 * MiB, code_space: 2 * MiB, large_object_space: 4 * MiB, read_only_space: 0 }
      }),
      "one renew of 20",
      120
    ).join("\n")
    expect(text).toContain("150 MiB resident = V8's heap 100 MiB (40 MiB of it in use; new space 32, old space 60, code 2, large objects 4, other spaces 2)")
    expect(text).toContain("+ 50 MiB outside it (of which 6 MiB external memory, 1 MiB of it ArrayBuffers")
    expect(text).toContain("The 100 MiB target needs 50 MiB less: the heap holds 60 MiB it does not use")
  })

  it("within the target, says so; without a memory sample, leaves the memory out", () => {
    const small = section(
      profiled({ rss: 90 * MiB, heapTotal: 50 * MiB, heapUsed: 30 * MiB, external: 2 * MiB, arrayBuffers: 0, spaces: {} }),
      "t",
      120
    ).join("\n")
    expect(small).toContain("Within the 100 MiB target.")
    const native = section(
      profiled({ rss: 280 * MiB, heapTotal: 85 * MiB, heapUsed: 38 * MiB, external: 64 * MiB, arrayBuffers: MiB, spaces: {} }),
      "t",
      120
    ).join("\n")
    expect(native).toContain("The 100 MiB target needs 180 MiB less: most of the peak is outside V8's heap (195 MiB;")
    const none = section(profiled(undefined), "t", 120).join("\n")
    expect(none).not.toContain("resident")
    expect(none).toContain("What would be needed:")
  })
})
