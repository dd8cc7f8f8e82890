// Bundles src/bin.ts into dist/acme.mjs: an executable ES module for Node 20, plus the chunk(s) it
// imports when a command runs (dist/acme-chunk-*.mjs), with what the workspace packages and
// dependencies need inside them; nothing else is needed at run time.
//
//   node build.mjs            build
//   node build.mjs --if-stale build only when dist/acme.mjs is missing or older than a source file
//
// Also imported by scripts/acme.mjs and the tests' globalSetup (`ensureBuilt`). Output goes to
// stderr only. The file is written next to its final name and renamed over it, so that two
// builds at once never leave a half-written binary.
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, "../..")

/** the bundle */
export const output = path.join(here, "dist", "acme.mjs")

/** folders whose files end up in the bundle */
const sourceFolders = () => [
  path.join(here, "src"),
  ...fs.readdirSync(path.join(root, "packages"), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => path.join(root, "packages", entry.name, "src"))
]

const newestIn = (folder) => {
  let newest = 0
  let entries
  try {
    entries = fs.readdirSync(folder, { withFileTypes: true })
  } catch {
    return 0
  }
  for (const entry of entries) {
    const full = path.join(folder, entry.name)
    if (entry.isDirectory()) newest = Math.max(newest, newestIn(full))
    else if (entry.isFile()) newest = Math.max(newest, fs.statSync(full).mtimeMs)
  }
  return newest
}

/** the modification time of the newest file that goes into the bundle (sources, this script, package.json) */
export const newestInput = () =>
  Math.max(
    ...sourceFolders().map(newestIn),
    fs.statSync(path.join(here, "build.mjs")).mtimeMs,
    fs.statSync(path.join(here, "package.json")).mtimeMs
  )

/** whether dist/acme.mjs is missing or older than any file under packages/*\/src or apps/cli/src */
export const isStale = () => {
  let built
  try {
    built = fs.statSync(output).mtimeMs
  } catch {
    return true
  }
  return newestInput() > built
}

/** the chunks next to dist/acme.mjs: what the entry imports when a command runs */
const isChunk = (name) => /^acme-chunk-[\w-]+\.mjs$/.test(name)

/**
 * esbuild's options for the bundle written to `outdir` (not written by esbuild: `build` writes the
 * files itself). Exported for the benchmarks, which profile a build of the same sources with
 * `sourcemap: true` in a folder of their own (bench/src/profile.ts); dist/ never ships source maps.
 */
export const esbuildOptions = (outdir) => ({
  absWorkingDir: here,
  entryPoints: { acme: path.join(here, "src", "bin.ts") },
  bundle: true,
  // the workspace packages from their TypeScript sources (their package.json "@acme/source"
  // export condition), so the bundle never waits for, or goes stale against, their dist/
  conditions: ["@acme/source"],
  splitting: true,
  platform: "node",
  format: "esm",
  target: "node20",
  write: false,
  outdir,
  outExtension: { ".js": ".mjs" },
  chunkNames: "acme-chunk-[hash]",
  legalComments: "none",
  // whitespace and syntax only: smaller chunks to read and parse, and every identifier (class and
  // function names appear in errors and traces) stays as written
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: "warning",
  // node-postgres loads its native binding (pg-native, not installed) only when asked for it
  external: ["pg-native"],
  // the bundle is an ES module; bundled CommonJS code still calls require() for node built-ins
  banner: {
    js: [
      "#!/usr/bin/env node",
      "import { createRequire as __acmeCreateRequire } from \"module\";",
      "const require = __acmeCreateRequire(import.meta.url);"
    ].join("\n")
  }
})

/**
 * builds dist/acme.mjs and its chunks.
 *
 * The entry is small: it answers `--version` itself and imports the rest (the command tree, Effect,
 * the SDK) only when a command runs, from a chunk esbuild splits off (`splitting`). Node then
 * compiles the 4 MB of JavaScript only when it is needed, so `acme --version` starts about as fast
 * as node itself. Chunks are written first and the entry last, each to a temp file renamed over its
 * name, so an entry on disk always finds its chunks; chunks of earlier builds are removed after.
 */
export const build = async () => {
  const esbuild = await import("esbuild")
  const dist = path.dirname(output)
  const result = await esbuild.build(esbuildOptions(dist))
  fs.mkdirSync(dist, { recursive: true })
  const write = (file) => {
    const temporary = `${file.path}.tmp-${process.pid}`
    fs.writeFileSync(temporary, file.contents, { mode: 0o755 })
    fs.chmodSync(temporary, 0o755)
    fs.renameSync(temporary, file.path)
  }
  const entry = result.outputFiles.find((f) => f.path === output)
  if (entry === undefined) throw new Error(`esbuild did not produce ${output}`)
  const chunks = result.outputFiles.filter((f) => f !== entry)
  for (const chunk of chunks) write(chunk)
  write(entry)
  const current = new Set(chunks.map((chunk) => path.basename(chunk.path)))
  for (const name of fs.readdirSync(dist)) {
    if (isChunk(name) && !current.has(name)) fs.rmSync(path.join(dist, name), { force: true })
  }
  return output
}

/** builds when stale; true when it built */
export const ensureBuilt = async () => {
  if (!isStale()) return false
  await build()
  return true
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const onlyIfStale = process.argv.includes("--if-stale")
  const started = performance.now()
  const built = onlyIfStale ? await ensureBuilt() : (await build(), true)
  if (built) {
    process.stderr.write(`built ${path.relative(process.cwd(), output)} in ${Math.round(performance.now() - started)} ms\n`)
  }
}
