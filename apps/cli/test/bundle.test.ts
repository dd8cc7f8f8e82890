/**
 * The bundle (apps/cli/build.mjs): what node loads for a command. `acme demo` imports Pebble's
 * harness (@acme/testing) dynamically, so the chunks every other command loads do not contain it.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { binary } from "./support/cli.js"

const dist = path.dirname(binary)
const read = (file: string) => fs.readFileSync(path.join(dist, file), "utf8")

const staticImports = (code: string): Array<string> =>
  [...code.matchAll(/(?:import|export)\s*(?:[\w*{}\s,$]*?from\s*)?["']\.\/(acme-chunk-[\w-]+\.mjs)["']/g)].map((m) => m[1] ?? "")
const dynamicImports = (code: string): Array<string> =>
  [...code.matchAll(/import\(\s*["']\.\/(acme-chunk-[\w-]+\.mjs)["']\s*\)/g)].map((m) => m[1] ?? "")

/** every file node evaluates from `roots` on, following static imports only */
const loadedFrom = (roots: ReadonlyArray<string>): Set<string> => {
  const loaded = new Set<string>()
  const pending = [...roots]
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (loaded.has(file)) continue
    loaded.add(file)
    pending.push(...staticImports(read(file)))
  }
  return loaded
}

// the Tag key of the Pebble harness: in its module, and nowhere else
const pebbleMarker = "@acme/testing/Pebble"
// a Tag key of the server (@acme/server/Tasks), the API reference page's Scalar (3 MB), and
// tsyringe's message, which comes with @peculiar/x509 (internal/asn1.ts in the SDK)
const serverMarker = "@acme/server/Tasks"
const scalarMarker = "@scalar/api-reference"
const x509Marker = "tsyringe requires a reflect polyfill"
// one of undici's error codes: the HTTP client loads undici with the first request (NodeAcmeHttpClient)
const undiciMarker = "UND_ERR_CONNECT_TIMEOUT"

describe("the bundle", () => {
  it("a command other than demo never loads @acme/testing; demo loads it from a chunk of its own", () => {
    const entry = read("acme.mjs")
    // bin.ts imports the command tree dynamically (only when a command runs, not for --version)
    const [commands, ...others] = dynamicImports(entry)
    expect(others).toEqual([])
    expect(commands).toBeDefined()
    const everyCommand = loadedFrom(["acme.mjs", commands ?? ""])
    const withPebble = [...everyCommand].filter((file) => read(file).includes(pebbleMarker))
    expect(withPebble).toEqual([])

    // the demo's dynamic import: the chunks it loads on top hold the harness
    const lazy = [...everyCommand].flatMap((file) => dynamicImports(read(file)))
    const demo = [...loadedFrom(lazy)].filter((file) => !everyCommand.has(file))
    expect(demo.some((file) => read(file).includes(pebbleMarker))).toBe(true)
  })

  it("every command loads neither the server, @peculiar/x509 nor undici: serve, a certificate that is due and the first request import them", () => {
    const [commands] = dynamicImports(read("acme.mjs"))
    const everyCommand = loadedFrom(["acme.mjs", commands ?? ""])
    for (const marker of [serverMarker, scalarMarker, x509Marker, undiciMarker]) {
      expect([...everyCommand].filter((file) => read(file).includes(marker))).toEqual([])
    }
    // each is in a chunk that a dynamic import reaches
    const lazy = [...loadedFrom([...everyCommand].flatMap((file) => dynamicImports(read(file))))]
    for (const marker of [serverMarker, scalarMarker, x509Marker, undiciMarker]) {
      expect(lazy.some((file) => read(file).includes(marker))).toBe(true)
    }
  })
})
