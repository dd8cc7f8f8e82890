// Builds dist/sea/acme: the `acme` command as one executable file that needs no Node.js installed
// (Node's single executable application, https://nodejs.org/docs/latest-v20.x/api/single-executable-applications.html).
//
//   node scripts/build-sea.mjs             build
//   node scripts/build-sea.mjs --if-stale  build only when dist/sea/acme is missing or older than a source
//
// Steps: esbuild bundles the CLI into one CommonJS file (a Node 20 SEA runs exactly one CommonJS
// script, whose require() knows only node's built-in modules); node turns it into a blob, with V8's
// code cache for it (the 4 MB of JavaScript is then not compiled again at every start); the blob is
// injected with postject into a copy of the node binary that runs this script. The executable is as
// portable as that node binary: same OS, CPU architecture and C library (glibc) baseline.
//
// What the executable cannot do that the npm package can: load plugins from node_modules
// (`import()` of a file is not available inside a Node 20 SEA); the built-in providers all work.
// Also imported by build-deb.mjs and the distribution tests (`ensureBuilt`, `output`).
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const folder = path.join(here, "dist", "sea")

/** the executable */
export const output = path.join(folder, "acme")

/** the sentinel Node's SEA loader looks for; the same in every Node release that has SEA */
const fuse = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2"

const cliBuilder = () => import(pathToFileURL(path.join(here, "build.mjs")).href)

/** whether dist/sea/acme is missing or older than a file that goes into it */
export const isStale = async () => {
  let built
  try {
    built = fs.statSync(output).mtimeMs
  } catch {
    return true
  }
  const builder = await cliBuilder()
  return Math.max(builder.newestInput(), fs.statSync(fileURLToPath(import.meta.url)).mtimeMs) > built
}

// bin.ts without its top-level await, which a CommonJS script cannot have: `--version` is answered
// before the command tree is evaluated (esbuild keeps the dynamic import lazy inside the one file)
const entry = `
import { version } from "./src/version.js"
const argv = process.argv
if (argv.length === 3 && argv[2] === "--version") {
  process.stdout.write(version + "\\n\\n")
} else {
  import("./src/Cli.js").then((Cli) => Cli.main(argv))
}
`

/**
 * Optional native add-ons that bundled code probes for with require() inside a try (ws: bufferutil,
 * utf-8-validate; msgpackr: msgpackr-extract, which looks for its prebuilt binary on disk). A SEA's require() refuses every non-built-in module, and prints a warning the
 * first time: inside the bundle they resolve to a module that throws, so the probe fails quietly
 * and the JavaScript fallback is used, as when the add-on is not installed.
 */
const absentAddOns = {
  name: "absent-native-add-ons",
  setup(build) {
    build.onResolve({ filter: /^(bufferutil|utf-8-validate|msgpackr-extract)$/ }, (args) => ({ path: args.path, namespace: "absent" }))
    build.onLoad({ filter: /.*/, namespace: "absent" }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not part of the single executable`)})`,
      loader: "js"
    }))
  }
}

export const build = async () => {
  const esbuild = await import("esbuild")
  fs.mkdirSync(folder, { recursive: true })
  const script = path.join(folder, "acme.cjs")
  await esbuild.build({
    absWorkingDir: here,
    stdin: { contents: entry, resolveDir: here, loader: "ts", sourcefile: "sea-entry.ts" },
    bundle: true,
    conditions: ["@acme/source"],
    platform: "node",
    format: "cjs",
    target: "node20",
    outfile: script,
    legalComments: "none",
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: "error",
    plugins: [absentAddOns]
  })
  const blob = path.join(folder, "acme.blob")
  const config = path.join(folder, "sea-config.json")
  fs.writeFileSync(
    config,
    JSON.stringify({ main: script, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }, null, 2)
  )
  execFileSync(process.execPath, ["--experimental-sea-config", config], { stdio: ["ignore", "pipe", "pipe"] })

  // into a temp file renamed over the executable at the end: a half-written acme is never left behind
  const temporary = `${output}.tmp-${process.pid}`
  fs.copyFileSync(process.execPath, temporary)
  fs.chmodSync(temporary, 0o755)
  // postject's CLI, quietly: LIEF warns about ELF note sections it does not know on every build;
  // what it printed is shown when it fails
  const postject = createRequire(import.meta.url).resolve("postject/dist/cli.js")
  try {
    execFileSync(process.execPath, [postject, temporary, "NODE_SEA_BLOB", blob, "--sentinel-fuse", fuse], {
      stdio: ["ignore", "pipe", "pipe"]
    })
  } catch (error) {
    fs.rmSync(temporary, { force: true })
    throw new Error(`postject failed: ${String(error.stderr ?? error.message)}`)
  }
  fs.renameSync(temporary, output)
  fs.rmSync(blob, { force: true })
  return output
}

/** builds when stale; true when it built */
export const ensureBuilt = async () => {
  if (!(await isStale())) return false
  await build()
  return true
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const started = performance.now()
  const built = process.argv.includes("--if-stale") ? await ensureBuilt() : (await build(), true)
  if (built) {
    process.stderr.write(`built ${path.relative(process.cwd(), output)} in ${Math.round(performance.now() - started)} ms\n`)
  }
}
