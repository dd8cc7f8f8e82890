/**
 * What the benchmarks share: building what is measured (the CLI bundle, the SDK runner bundle), the
 * machine and versions for RESULTS.md, and where the results go.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { root } from "./clients.js"

/** bench/.cache: bundles and work folders (ignored by git) */
export const cacheDir = path.join(root, "bench", ".cache")

/** bench/results: the raw numbers RESULTS.md is made from */
export const resultsDir = path.join(root, "bench", "results")

/** the bundled SDK runner */
export const sdkRunner = path.join(cacheDir, "sdk-run.mjs")

/** A fresh, empty work folder under bench/.cache. */
export const workFolder = (name: string): string => {
  const folder = path.join(cacheDir, "work", name)
  fs.rmSync(folder, { recursive: true, force: true })
  fs.mkdirSync(folder, { recursive: true })
  return folder
}

/**
 * Builds apps/cli/dist/acme.mjs (when stale) and bundles sdk-run.ts with the same esbuild settings.
 *
 * @since 0.1.0
 */
export const build = Effect.promise(async () => {
  const builder: { ensureBuilt: () => Promise<boolean> } = await import(
    pathToFileURL(path.join(root, "apps", "cli", "build.mjs")).href
  )
  await builder.ensureBuilt()
  const esbuild = await import("esbuild")
  await esbuild.build({
    entryPoints: [path.join(root, "bench", "src", "sdk-run.ts")],
    bundle: true,
    conditions: ["@acme/source"],
    platform: "node",
    format: "esm",
    target: "node20",
    outfile: sdkRunner,
    logLevel: "warning",
    banner: {
      js: "import { createRequire as __benchCreateRequire } from \"module\";\nconst require = __benchCreateRequire(import.meta.url);"
    }
  })
})

const firstLine = (command: string, args: ReadonlyArray<string>): string => {
  try {
    return execFileSync(command, [...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim().split("\n")[0] ?? ""
  } catch {
    return "unknown"
  }
}

/** the installed version of a Debian package */
const debianVersion = (name: string): string => firstLine("dpkg-query", ["-W", "-f", "${Version}", name])

/**
 * @since 0.1.0
 * @category models
 */
export interface Machine {
  readonly cpu: string
  readonly cores: number
  readonly memoryGiB: number
  readonly os: string
  readonly node: string
  /** `uptime` when the run started and ended: the machine may be shared */
  readonly loadAtStart: string
  loadAtEnd: string
}

/** @since 0.1.0 */
export const load = (): string => firstLine("uptime", [])

/** @since 0.1.0 */
export const machine = (): Machine => ({
  cpu: os.cpus()[0]?.model ?? "unknown",
  cores: os.cpus().length,
  memoryGiB: Math.round(os.totalmem() / 2 ** 30 * 10) / 10,
  os: `${firstLine("sh", ["-c", ". /etc/os-release && echo \"$PRETTY_NAME\""])}, Linux ${os.release()}`,
  node: process.version,
  loadAtStart: load(),
  loadAtEnd: ""
})

/** @since 0.1.0 */
export const versions = (): Record<string, string> => {
  const pkg = (file: string): string => {
    const parsed: unknown = JSON.parse(fs.readFileSync(file, "utf8"))
    return typeof parsed === "object" && parsed !== null && "version" in parsed && typeof parsed.version === "string"
      ? parsed.version
      : "unknown"
  }
  return {
    "acme (this project)": `${pkg(path.join(root, "apps", "cli", "package.json"))} (git ${
      firstLine("git", ["-C", root, "rev-parse", "--short", "HEAD"])
    })`,
    lego: `${debianVersion("lego")} (Debian)`,
    certbot: `${debianVersion("certbot")} (Debian)`,
    "acme-client": `${pkg(path.join(root, "bench", "node_modules", "acme-client", "package.json"))} (npm)`,
    pebble: `${debianVersion("pebble")} (Debian)`,
    node: process.version
  }
}

/** Writes a results file (pretty JSON). */
export const writeResults = (name: string, data: unknown): void => {
  fs.mkdirSync(resultsDir, { recursive: true })
  fs.writeFileSync(path.join(resultsDir, name), `${JSON.stringify(data, null, 2)}\n`)
}
