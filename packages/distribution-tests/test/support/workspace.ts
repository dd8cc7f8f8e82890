/**
 * The published packages of this repository, and helpers to run commands for the tests.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"

export const repositoryRoot = path.resolve(import.meta.dirname, "../../../..")

export interface Package {
  readonly name: string
  /** relative to the repository root */
  readonly folder: string
  /** what `pnpm build` makes, which must exist before the package can be packed */
  readonly built: string
}

/** every package that is published, dependencies first */
export const packages: ReadonlyArray<Package> = [
  { name: "@acme/sdk", folder: "packages/sdk", built: "dist/index.js" },
  { name: "@acme/testing", folder: "packages/testing", built: "dist/index.js" },
  { name: "@acme/storage-postgres", folder: "packages/storage-postgres", built: "dist/index.js" },
  { name: "@acme/platform-node", folder: "packages/platform-node", built: "dist/index.js" },
  { name: "@acme/dns", folder: "packages/dns", built: "dist/index.js" },
  { name: "@acme/ai", folder: "packages/ai", built: "dist/index.js" },
  { name: "@acme/cli", folder: "apps/cli", built: "dist/acme.mjs" }
]

/** a package's entry in a catalog of pnpm-workspace.yaml: `catalog:` (indented by 2), or `catalogs: peers:` (by 4) */
const catalogEntry = (catalogName: "catalog" | "peers", name: string): string => {
  const lines = fs.readFileSync(path.join(repositoryRoot, "pnpm-workspace.yaml"), "utf8").split("\n")
  const start = lines.findIndex((line) => catalogName === "catalog" ? line === "catalog:" : line.trim() === "peers:")
  const indent = catalogName === "catalog" ? "  " : "    "
  const entries = lines.slice(start + 1)
  const section = entries.slice(0, entries.findIndex((line) => !line.startsWith(indent)))
  const line = section.find((l) => l.replace(/"/g, "").trim().startsWith(`${name}:`))
  const version = line?.slice(line.indexOf(":") + 1).trim()
  if (start < 0 || version === undefined || version.length === 0) {
    throw new Error(`${name} is not in pnpm-workspace.yaml's ${catalogName} catalog`)
  }
  return version
}

/** the version the workspace itself is built and tested with (pnpm-workspace.yaml's catalog) */
export const catalog = (name: string): string => catalogEntry("catalog", name)

/** the oldest version the published packages accept: the lower end of the `peers` catalog's range */
export const oldestPeer = (name: string): string => catalogEntry("peers", name).replace(/^\^/, "")

export interface Result {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export interface RunOptions {
  readonly cwd?: string
  /** the whole environment of the command (default: the tests' own) */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** the exit code must be 0 (default true): otherwise fail with what the command printed */
  readonly check?: boolean
}

/** runs a command to its end and collects what it printed */
export const run = (command: string, args: ReadonlyArray<string>, options: RunOptions = {}): Promise<Result> =>
  new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(command, [...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    child.on("error", reject)
    child.on("close", (code) => {
      if (process.env.ACME_TEST_VERBOSE !== undefined) {
        process.stderr.write(`${Math.round(performance.now() - started)} ms: ${command} ${args.join(" ")}\n`)
      }
      if (options.check !== false && code !== 0) {
        reject(
          new Error(`${command} ${args.join(" ")} exited with ${code}\n--- stdout\n${stdout.slice(-4000)}\n--- stderr\n${stderr.slice(-4000)}`)
        )
      } else {
        resolve({ code, stdout, stderr })
      }
    })
  })

/**
 * The environment for npm and pnpm in a test: the .npmrc of the global setup (the @acme scope from
 * the throwaway registry), quiet, a cache of the run's own, and none of the npm_* variables that
 * pnpm sets for the script running the tests (the workspace's settings must not leak into a fresh
 * project).
 */
export const packageManagerEnv = (npmrc: string, scratch: string): Record<string, string> => {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !/^npm_/i.test(key) && key !== "PNPM_SCRIPT_SRC_DIR" && key !== "INIT_CWD") env[key] = value
  }
  return {
    ...env,
    npm_config_userconfig: npmrc,
    npm_config_cache: path.join(scratch, "npm-cache"),
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
    npm_config_audit: "false"
  }
}
