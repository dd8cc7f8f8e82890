/**
 * `npm install -g @acme/cli` from the registry (into a prefix of the test's own): one bundle, no
 * dependencies installed beside it, and an `acme` on the prefix's bin/ that renews against Pebble.
 */
import { Pebble } from "@acme/testing"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { inject } from "vitest"
import { expectRenewed, writeConfig } from "./support/acme.js"
import { packageManagerEnv, run } from "./support/workspace.js"

const npmrc = inject("npmrc")
const scratch = inject("scratch")
const env = packageManagerEnv(npmrc, scratch)
const prefix = path.join(scratch, "global")

layer(Pebble.layer({ challengeServers: "external" }), { excludeTestServices: true })("npm install -g @acme/cli", (it) => {
  it.effect("installs the bundle alone, and its acme renews a certificate from Pebble", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      yield* Effect.promise(() => run("npm", ["install", "--global", "--prefix", prefix, "@acme/cli"], { env }))
      const installed = path.join(prefix, "lib", "node_modules", "@acme", "cli")
      expect(fs.readdirSync(installed).sort()).toEqual(["LICENSE", "README.md", "dist", "package.json"])
      expect(fs.existsSync(path.join(installed, "node_modules"))).toBe(false)

      const acme = path.join(prefix, "bin", "acme")
      const version = yield* Effect.promise(() => run(acme, ["--version"], { env }))
      const manifest: unknown = JSON.parse(fs.readFileSync(path.join(installed, "package.json"), "utf8"))
      expect(manifest).toMatchObject({ version: version.stdout.trim() })

      const folder = path.join(scratch, "cli-global")
      const config = writeConfig(pebble, folder, "global.cli.example.test")
      const renewed = yield* Effect.promise(() => run(acme, ["renew", "--config", config, "--json"], { cwd: folder, env }))
      expectRenewed(renewed.stdout, folder, "global.cli.example.test")
    }))
})
