import { defineConfig, mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.js"

// One registry for every file (the global setup publishes the packages once). The files run one
// after another: each installs packages, compiles and renews against its own Pebble, and together
// they would only slow each other down on a small CI machine.
export default mergeConfig(
  shared,
  defineConfig({
    test: {
      globalSetup: ["test/support/registry.ts"],
      fileParallelism: false,
      testTimeout: 600_000,
      hookTimeout: 600_000
    }
  })
)
