/**
 * Runs the built `acme` binary as a child process and collects what it printed.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { stripVTControlCharacters } from "node:util"

/** the built binary; `ACME_TEST_BINARY` points the tests at another build (e.g. of an older commit, to see a new test fail there) */
export const binary = process.env["ACME_TEST_BINARY"] ?? path.resolve(import.meta.dirname, "../../dist/acme.mjs")

export interface Result {
  /** the process id it ran as */
  readonly pid: number
  /** the exit code; null when a signal ended the process */
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  /** stderr without empty lines */
  readonly stderrLines: ReadonlyArray<string>
}

export interface Options {
  readonly cwd?: string
  /** added to the environment (undefined removes a variable) */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** run this program with the arguments instead of the binary (e.g. `script`, to give it a terminal) */
  readonly command?: string
}

/** variables of the test runner's environment that would change what the command does */
const isolated = ["ACME_CONFIG", "ACME_TEST_CRASH_AT", "ACME_EAB_KID", "ACME_EAB_HMAC_KEY"]

export const acme = (args: ReadonlyArray<string>, options: Options = {}): Promise<Result> =>
  acmeKilledWhen(args, options, () => false)

/**
 * Like `acme`, but SIGKILLs the process as soon as a line it writes to stderr satisfies `kill`
 * (for example the line that says a stage started): a crash in the middle of that stage.
 */
export const acmeKilledWhen = (
  args: ReadonlyArray<string>,
  options: Options,
  kill: (line: string) => boolean
): Promise<Result> =>
  acmeWatched(args, options, (line, child) => {
    if (kill(line)) child.kill("SIGKILL")
  })

/**
 * Like `acme`, but calls `watch` with every line the process writes to stderr, and the process
 * itself: a test can stop it (SIGSTOP), change the world under it, and let it go on (SIGCONT).
 */
export const acmeWatched = (
  args: ReadonlyArray<string>,
  options: Options,
  watch: (line: string, child: ChildProcess) => void
): Promise<Result> =>
  new Promise((resolve, reject) => {
    const env: Record<string, string> = {}
    for (const [key, value] of Object.entries(process.env)) {
      if (value !== undefined && !isolated.includes(key)) env[key] = value
    }
    for (const [key, value] of Object.entries(options.env ?? {})) {
      if (value === undefined) delete env[key]
      else env[key] = value
    }
    const child = spawn(options.command ?? process.execPath, options.command === undefined ? [binary, ...args] : args, {
      cwd: options.cwd ?? os.tmpdir(),
      env,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    let partial = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      // whole lines only: a chunk may end in the middle of one
      const lines = (partial + chunk).split("\n")
      partial = lines.pop() ?? ""
      stderr += chunk
      for (const line of lines) watch(line, child)
    })
    child.on("error", reject)
    child.on("close", (code, signal) =>
      resolve({
        pid: child.pid ?? 0,
        code,
        signal,
        stdout,
        stderr,
        stderrLines: stderr.split("\n").filter((line) => line.trim().length > 0)
      }))
  })

/** A fresh temporary folder, removed by the returned function. */
export const temporaryFolder = (prefix = "acme-cli-test-"): { readonly path: string; readonly remove: () => void } => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  return { path: folder, remove: () => fs.rmSync(folder, { recursive: true, force: true }) }
}

/** Every file and folder under `root`, with its size, mode and modification time. */
export const snapshot = (root: string): Record<string, string> => {
  const entries: Record<string, string> = {}
  const walk = (folder: string) => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name)
      const stat = fs.lstatSync(full)
      entries[path.relative(root, full)] = `${stat.size} ${stat.mode.toString(8)} ${stat.mtimeMs}`
      if (entry.isDirectory()) walk(full)
    }
  }
  if (fs.existsSync(root)) walk(root)
  return entries
}

/** the text without ANSI colours */
export const stripAnsi = (text: string): string => stripVTControlCharacters(text)
