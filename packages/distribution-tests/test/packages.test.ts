/**
 * What each published tarball holds: the built JavaScript, declarations and source maps, the sources
 * the maps point into, README and LICENSE; manifests without workspace-only ranges, with Effect as a
 * peer; the CLI as a bundle without dependencies.
 */
import { execFileSync } from "node:child_process"
import { describe, expect, inject, it } from "vitest"
import { packages } from "./support/workspace.js"

const tarballs = inject("tarballs")
const registry = inject("registry")

const filesOf = (tarball: string): ReadonlyArray<string> =>
  execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" })
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => line.replace(/^package\//, ""))

const manifestOf = (tarball: string): Record<string, unknown> =>
  JSON.parse(execFileSync("tar", ["-xzOf", tarball, "package/package.json"], { encoding: "utf8" }))

const libraries = packages.filter((pkg) => pkg.name !== "@acme/cli")

/** every file an `exports` entry points at */
const exportTargets = (exports: unknown): ReadonlyArray<string> => {
  if (typeof exports === "string") return [exports]
  if (typeof exports === "object" && exports !== null) return Object.values(exports).flatMap(exportTargets)
  return []
}

describe("library tarballs", () => {
  for (const pkg of libraries) {
    describe(pkg.name, () => {
      const tarball = tarballs[pkg.name] ?? ""
      const files = filesOf(tarball)
      const manifest = manifestOf(tarball)

      it("holds dist/ (JavaScript, declarations, source maps), src/, README.md, LICENSE and package.json only", () => {
        const outside = files.filter((file) =>
          !/^(dist|src)\//.test(file) && !["README.md", "LICENSE", "package.json"].includes(file)
        )
        expect(outside).toEqual([])
        expect(files).toContain("README.md")
        expect(files).toContain("LICENSE")
        for (const kind of [".js", ".d.ts", ".js.map", ".d.ts.map"]) {
          expect(files).toContain(`dist/index${kind}`)
        }
        // every compiled module has its declaration and source map, and its source beside it
        for (const js of files.filter((file) => file.startsWith("dist/") && file.endsWith(".js"))) {
          const base = js.slice("dist/".length, -".js".length)
          expect(files).toEqual(expect.arrayContaining([`dist/${base}.d.ts`, `dist/${base}.js.map`, `src/${base}.ts`]))
        }
      })

      it("points every export (and main and types, for tools that do not read exports) at a file it ships", () => {
        const exports = manifest.exports as Record<string, unknown>
        for (const target of [...exportTargets(exports), manifest.main, manifest.types]) {
          expect(files).toContain(String(target).replace(/^\.\//, ""))
        }
        for (const [subpath, entry] of Object.entries(exports)) {
          if (subpath === "./package.json") continue
          expect(Object.keys(entry as object)).toEqual(["@acme/source", "types", "default"])
        }
        expect(Object.keys(exports)).not.toContain("./*")
      })

      it("names Effect as a peer on the 3.x line, and its @acme dependencies by version", () => {
        const text = JSON.stringify(manifest)
        expect(text).not.toMatch(/workspace:|catalog:/)
        const peers = manifest.peerDependencies as Record<string, string>
        expect(peers.effect).toMatch(/^\^3\.\d+\.\d+$/)
        const dependencies = (manifest.dependencies ?? {}) as Record<string, string>
        for (const name of Object.keys(dependencies)) {
          expect(name === "effect" || name.startsWith("@effect/")).toBe(false)
        }
        for (const [name, range] of Object.entries(dependencies)) {
          if (name.startsWith("@acme/")) expect(range).toBe(`^${manifest.version}`)
        }
      })
    })
  }
})

describe("@acme/cli tarball", () => {
  const tarball = tarballs["@acme/cli"] ?? ""

  it("is the bundle, README and LICENSE, with no dependencies to install", () => {
    const files = filesOf(tarball)
    expect(files.filter((file) => !/^dist\/acme(-chunk-[\w-]+)?\.mjs$/.test(file)).sort()).toEqual(
      ["LICENSE", "README.md", "package.json"]
    )
    const manifest = manifestOf(tarball)
    expect(manifest.dependencies).toBeUndefined()
    expect(manifest.peerDependencies).toBeUndefined()
    expect(manifest.bin).toEqual({ acme: "./dist/acme.mjs" })
  })
})

describe("the registry", () => {
  it("serves every published package at its version", async () => {
    for (const pkg of packages) {
      const response = await fetch(`${registry}${pkg.name.replace("/", "%2f")}`)
      expect(response.status).toBe(200)
      const document = (await response.json()) as { "dist-tags": { latest: string } }
      expect(document["dist-tags"].latest).toBe(manifestOf(tarballs[pkg.name] ?? "").version)
    }
  })
})
