/**
 * The single executable (`pnpm build:sea`): it runs, and renews against Pebble, with no `node` to
 * be found on PATH.
 */
import { Pebble } from "@acme/testing"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { inject } from "vitest"
import { expectRenewed, writeConfig } from "./support/acme.js"
import { seaBuilder } from "./support/builders.js"
import { repositoryRoot, run } from "./support/workspace.js"

const scratch = inject("scratch")

/** an environment whose PATH is one empty folder: nothing, node least of all, can be found on it */
const withoutNode = (): Record<string, string> => {
  const empty = path.join(scratch, "empty-path")
  fs.mkdirSync(empty, { recursive: true })
  return { PATH: empty, HOME: scratch, LANG: "C.UTF-8" }
}

layer(Pebble.layer({ challengeServers: "external" }), { excludeTestServices: true })("the single executable", (it) => {
  it.effect("runs without node on PATH, and renews a certificate from Pebble", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const builder = yield* Effect.promise(() => seaBuilder())
      yield* Effect.promise(() => builder.ensureBuilt())
      const acme = builder.output
      const env = withoutNode()

      const version = yield* Effect.promise(() => run(acme, ["--version"], { env }))
      const manifest: unknown = JSON.parse(fs.readFileSync(path.join(repositoryRoot, "apps/cli/package.json"), "utf8"))
      expect(manifest).toMatchObject({ version: version.stdout.trim() })
      // and node really is not on that PATH: a shell started with it finds no node
      const probe = yield* Effect.promise(() => run("/bin/sh", ["-c", "command -v node"], { env, check: false }))
      expect(probe.code).not.toBe(0)

      const folder = path.join(scratch, "sea")
      const config = writeConfig(pebble, folder, "sea.example.test")
      const renewed = yield* Effect.promise(() => run(acme, ["renew", "--config", config, "--json"], { cwd: folder, env }))
      expect(renewed.stderr).not.toMatch(/Warning/)
      expectRenewed(renewed.stdout, folder, "sea.example.test")
    }))
})
