import { defineConfig, mergeConfig } from "vitest/config"
import shared from "../../vitest.shared.js"

// The tests run the built binary (dist/acme.mjs) as a child process: the global setup builds it
// first when it is missing or older than a source file.
export default mergeConfig(shared, defineConfig({ test: { globalSetup: ["test/support/globalSetup.ts"] } }))
