/**
 * The global setup of the distribution tests: one throwaway npm registry (Verdaccio, on a free
 * loopback port, its storage in a temporary folder) holding every published package, packed by
 * `pnpm pack` exactly as `pnpm release` would publish them.
 *
 * The fresh projects of the tests take the `@acme` scope from it and everything else from the npm
 * registry this machine uses, as a company with a private registry for its own scope does
 * (`@acme:registry=...` in an .npmrc). So `@acme/*` never comes from npmjs.org (someone else may own
 * those names there), and Verdaccio needs no uplink: nothing between npm and npmjs.org to time out.
 *
 * The tests get, through `inject`, the registry's URL, that .npmrc, the tarballs, and a scratch
 * folder. Everything is removed, and Verdaccio stopped, at the end.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import type { TestProject } from "vitest/node"
import { packages, repositoryRoot } from "./workspace.js"

declare module "vitest" {
  export interface ProvidedContext {
    /** http://127.0.0.1:<port>/ */
    readonly registry: string
    /** an .npmrc for fresh projects: the @acme scope from the registry, the rest from npm's usual registry */
    readonly npmrc: string
    /** the tarballs that were published, by package name */
    readonly tarballs: Readonly<Record<string, string>>
    /** a temporary folder for the tests, removed at the end */
    readonly scratch: string
  }
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

/** the npm registry this machine uses (a mirror, when npm is configured for one) */
const upstreamRegistry = (): string => {
  try {
    const configured = execFileSync("npm", ["config", "get", "registry"], { encoding: "utf8" }).trim()
    return configured.startsWith("http") ? configured : "https://registry.npmjs.org/"
  } catch {
    return "https://registry.npmjs.org/"
  }
}

const verdaccioConfig = (folder: string) => `
storage: ${JSON.stringify(path.join(folder, "storage"))}
auth:
  htpasswd:
    file: ${JSON.stringify(path.join(folder, "htpasswd"))}
    max_users: 10
packages:
  "@acme/*":
    access: $all
    publish: $authenticated
web:
  enable: false
max_body_size: 200mb
log: { type: stdout, format: pretty, level: error }
`

const waitForPing = async (url: string, verdaccio: ChildProcess, output: () => string): Promise<void> => {
  const deadline = performance.now() + 60_000
  while (performance.now() < deadline) {
    if (verdaccio.exitCode !== null) throw new Error(`Verdaccio exited with ${verdaccio.exitCode}:\n${output()}`)
    try {
      const response = await fetch(`${url}-/ping`)
      if (response.ok) return
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`Verdaccio did not answer on ${url} within 60 s:\n${output()}`)
}

/** a user that may publish, and its token (Verdaccio's htpasswd plugin creates it on first login) */
const addUser = async (url: string): Promise<string> => {
  const response = await fetch(`${url}-/user/org.couchdb.user:publisher`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "publisher", password: "throwaway-registry-only" })
  })
  const body: unknown = await response.json()
  const token = typeof body === "object" && body !== null && "token" in body ? body.token : undefined
  if (!response.ok || typeof token !== "string") throw new Error(`could not add a user to Verdaccio: ${JSON.stringify(body)}`)
  return token
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  for (const pkg of packages) {
    if (!fs.existsSync(path.join(repositoryRoot, pkg.folder, pkg.built))) {
      throw new Error(`${pkg.folder}/${pkg.built} is missing: run \`pnpm build\` first (turbo builds it before these tests)`)
    }
  }
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "acme-distribution-"))
  const port = await freePort()
  const url = `http://127.0.0.1:${port}/`
  const verdaccioFolder = path.join(scratch, "verdaccio")
  fs.mkdirSync(verdaccioFolder)
  fs.writeFileSync(path.join(verdaccioFolder, "config.yaml"), verdaccioConfig(verdaccioFolder))
  const verdaccioBin = path.join(import.meta.dirname, "../../node_modules/verdaccio/bin/verdaccio")
  let output = ""
  const verdaccio = spawn(
    process.execPath,
    [verdaccioBin, "--config", path.join(verdaccioFolder, "config.yaml"), "--listen", `127.0.0.1:${port}`],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NODE_NO_WARNINGS: "1" } }
  )
  const collect = (chunk: Buffer) => void (output = (output + chunk.toString("utf8")).slice(-20_000))
  verdaccio.stdout?.on("data", collect)
  verdaccio.stderr?.on("data", collect)

  const teardown = async () => {
    verdaccio.kill("SIGTERM")
    await new Promise((resolve) => {
      if (verdaccio.exitCode !== null) resolve(undefined)
      else verdaccio.once("exit", resolve)
      setTimeout(() => {
        verdaccio.kill("SIGKILL")
        resolve(undefined)
      }, 5_000).unref()
    })
    fs.rmSync(scratch, { recursive: true, force: true })
  }

  try {
    await waitForPing(url, verdaccio, () => output)
    const token = await addUser(url)
    const publisher = path.join(scratch, "publisher.npmrc")
    fs.writeFileSync(publisher, `registry=${url}\n//127.0.0.1:${port}/:_authToken=${token}\n`)
    const npmrc = path.join(scratch, "consumer.npmrc")
    fs.writeFileSync(npmrc, `@acme:registry=${url}\nregistry=${upstreamRegistry()}\n`)

    // pack as `pnpm publish` does (workspace: and catalog: ranges become versions), then publish
    const tarballFolder = path.join(scratch, "tarballs")
    fs.mkdirSync(tarballFolder)
    const tarballs: Record<string, string> = {}
    for (const pkg of packages) {
      const before = new Set(fs.readdirSync(tarballFolder))
      execFileSync("pnpm", ["pack", "--pack-destination", tarballFolder], {
        cwd: path.join(repositoryRoot, pkg.folder),
        stdio: ["ignore", "ignore", "pipe"]
      })
      const made = fs.readdirSync(tarballFolder).filter((name) => !before.has(name))
      if (made.length !== 1 || made[0] === undefined) throw new Error(`pnpm pack in ${pkg.folder} made ${made.join(", ") || "nothing"}`)
      const tarball = path.join(tarballFolder, made[0])
      tarballs[pkg.name] = tarball
      execFileSync("npm", ["publish", tarball, "--userconfig", publisher, "--registry", url, "--no-update-notifier"], {
        stdio: ["ignore", "ignore", "pipe"]
      })
    }

    project.provide("registry", url)
    project.provide("npmrc", npmrc)
    project.provide("tarballs", tarballs)
    project.provide("scratch", scratch)
    return teardown
  } catch (error) {
    await teardown()
    throw error
  }
}
