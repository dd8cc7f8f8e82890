/**
 * Runs `acme serve` (the built binary) as a child process: waits for its "listening on" line, keeps
 * what it prints, and stops it with a signal, timing how long it took.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as os from "node:os"
import { binary } from "./cli.js"

export interface Served {
  /** http://127.0.0.1:PORT */
  readonly url: string
  readonly child: ChildProcess
  /** every line printed on stderr so far */
  readonly lines: Array<string>
  /** resolves with the first stderr line (from now on) that matches */
  readonly waitForLine: (pattern: RegExp, timeoutMillis?: number) => Promise<string>
  /** sends the signal, resolves when the process is gone */
  readonly stop: (signal: NodeJS.Signals) => Promise<{ readonly code: number | null; readonly millis: number }>
}

const isolated = ["ACME_CONFIG", "ACME_TEST_CRASH_AT", "ACME_EAB_KID", "ACME_EAB_HMAC_KEY", "OTEL_EXPORTER_OTLP_ENDPOINT"]

export const serve = (
  args: ReadonlyArray<string>,
  options: { readonly cwd?: string; readonly env?: Readonly<Record<string, string>> } = {}
): Promise<Served> =>
  new Promise((resolve, reject) => {
    const env: Record<string, string> = {}
    for (const [key, value] of Object.entries(process.env)) {
      if (value !== undefined && !isolated.includes(key)) env[key] = value
    }
    Object.assign(env, options.env ?? {})
    const child = spawn(process.execPath, [binary, "serve", ...args], {
      cwd: options.cwd ?? os.tmpdir(),
      env,
      stdio: ["ignore", "pipe", "pipe"]
    })
    const lines: Array<string> = []
    const waiters: Array<{ pattern: RegExp; done: (line: string) => void }> = []
    let partial = ""
    let started = false
    const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)))
    child.stdout.resume()
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      const parts = (partial + chunk).split("\n")
      partial = parts.pop() ?? ""
      for (const line of parts) {
        lines.push(line)
        if (process.env.ACME_TEST_VERBOSE === "1") process.stderr.write(`[serve] ${line}\n`)
        for (const waiter of [...waiters]) {
          if (waiter.pattern.test(line)) {
            waiters.splice(waiters.indexOf(waiter), 1)
            waiter.done(line)
          }
        }
        const listening = /listening on (http:\/\/\S+)/.exec(line)
        if (!started && listening?.[1] !== undefined) {
          started = true
          resolve({ url: listening[1], child, lines, waitForLine, stop })
        }
      }
    })
    const waitForLine = (pattern: RegExp, timeoutMillis = 30_000) =>
      new Promise<string>((done, fail) => {
        const timer = setTimeout(() => fail(new Error(`no line matching ${pattern} in ${timeoutMillis} ms`)), timeoutMillis)
        waiters.push({ pattern, done: (line) => (clearTimeout(timer), done(line)) })
      })
    const stop = async (signal: NodeJS.Signals) => {
      const started = performance.now()
      if (child.exitCode === null) child.kill(signal)
      const code = await exited
      return { code, millis: performance.now() - started }
    }
    void exited.then((code) => {
      if (!started) reject(new Error(`acme serve exited (${code}) before listening:\n${lines.join("\n")}`))
    })
  })
