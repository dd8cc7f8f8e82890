// The structure checks fail on what they are meant to catch: node --test scripts/checks/checks.test.mjs
import assert from "node:assert/strict"
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { test } from "node:test"
import { root } from "./sources.mjs"

const run = (script, ...args) => {
  const result = spawnSync(process.execPath, [join(root, "scripts/checks", script), ...args], {
    cwd: root,
    encoding: "utf8"
  })
  return { status: result.status, output: `${result.stdout}${result.stderr}` }
}

const fixture = (name) => `scripts/checks/fixtures/${name}`

test("cycles: two modules importing each other (one import type-only) fail the check, naming both", () => {
  const { output, status } = run("cycles.mjs", fixture("cycle"))
  assert.equal(status, 1)
  assert.match(output, /import cycle: a\.ts -> b\.ts -> a\.ts/)
})

test("cycles: modules whose imports run one way pass", () => {
  const { output, status } = run("cycles.mjs", fixture("acyclic"))
  assert.equal(status, 0, output)
  assert.match(output, /2 modules, no import cycle/)
})

test("cycles: a relative import that does not resolve fails the check (it could hide a cycle)", () => {
  const { output, status } = run("cycles.mjs", fixture("unresolved"))
  assert.equal(status, 1)
  assert.match(output, /cannot resolve the import "\.\/missing\.js"/)
})

test("lines: a file of 401 lines fails the check, one of 400 passes", () => {
  const folder = mkdtempSync(join(tmpdir(), "acme-lines-"))
  try {
    const lines = (n) => Array.from({ length: n }, (_, i) => `export const x${i} = ${i}\n`).join("")
    writeFileSync(join(folder, "ok.ts"), lines(400))
    assert.equal(run("lines.mjs", folder).status, 0)
    writeFileSync(join(folder, "long.ts"), lines(401))
    const { output, status } = run("lines.mjs", folder)
    assert.equal(status, 1)
    assert.match(output, /long\.ts: 401 lines, more than 400/)
    assert.doesNotMatch(output, /ok\.ts/)
  } finally {
    rmSync(folder, { recursive: true, force: true })
  }
})

test("the cycle check covers every package's and app's src by default", () => {
  const { output } = run("cycles.mjs")
  for (const folder of ["packages/sdk/src", "packages/testing/src", "packages/dns/src", "apps/cli/src"]) {
    assert.match(output, new RegExp(`${folder}: `), `${folder} is not checked`)
  }
})
