import { defineConfig } from "vitest/config"

// Shared by every package's vitest.config.ts. Integration tests start their own Pebble on free
// loopback ports, so files may run in parallel; the timeouts cover a CA round trip on a busy machine.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fakeTimers: { toFake: undefined },
    pool: "forks",
    reporters: ["default"]
  }
})
