import { defineConfig } from "vitest/config"

// The workspace's own packages resolve to their TypeScript sources through the "@acme/source" export
// condition (as tsc does, by tsconfig.base.json's customConditions): tests never need a build.
// Vitest's defaults are "node" and "development|production"; both stay.
const conditions = ["@acme/source", "node", "development|production"]

// Shared by every package's vitest.config.ts. Integration tests start their own Pebble on free
// loopback ports, so files may run in parallel; the timeouts cover a CA round trip on a busy machine.
export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fakeTimers: { toFake: undefined },
    pool: "forks",
    reporters: ["default"]
  }
})
