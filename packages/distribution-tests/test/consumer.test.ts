/**
 * Fresh projects outside the workspace install `@acme/sdk` and `@acme/platform-node` (and
 * `@acme/testing`) from the registry, with npm and with pnpm, no overrides; plain `tsc` (NodeNext,
 * strict) compiles test/fixtures/consumer/main.ts and plain `node` runs it: it renews a certificate
 * from Pebble. With the oldest effect our peer range allows, npm keeps one copy of effect. The
 * examples of the two packages' READMEs are compiled along with it.
 */
import { X509Certificate } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, inject, it } from "vitest"
import { catalog, oldestPeer, packageManagerEnv, repositoryRoot, run } from "./support/workspace.js"

const npmrc = inject("npmrc")
const scratch = inject("scratch")
const tarballs = inject("tarballs")
const env = packageManagerEnv(npmrc, scratch)

const acmeVersion = (): string => {
  const sdk = tarballs["@acme/sdk"] ?? ""
  const match = /-(\d+\.\d+\.\d+(?:-[\w.]+)?)\.tgz$/.exec(sdk)
  if (match?.[1] === undefined) throw new Error(`no version in ${sdk}`)
  return match[1]
}

interface EffectVersions {
  readonly effect: string
  readonly "@effect/platform": string
  readonly "@effect/platform-node": string
}

/** what the workspace itself is built and tested with */
const current: EffectVersions = {
  effect: catalog("effect"),
  "@effect/platform": catalog("@effect/platform"),
  "@effect/platform-node": catalog("@effect/platform-node")
}

/** the lower end of the peer ranges (pnpm-workspace.yaml's `peers` catalog) */
const oldest: EffectVersions = {
  effect: oldestPeer("effect"),
  "@effect/platform": oldestPeer("@effect/platform"),
  "@effect/platform-node": oldestPeer("@effect/platform-node")
}

const tsconfig = {
  compilerOptions: {
    target: "ES2022",
    module: "NodeNext",
    moduleResolution: "NodeNext",
    strict: true,
    skipLibCheck: true,
    types: ["node"],
    rootDir: "src",
    outDir: "dist"
  },
  include: ["src"]
}

/** the ```ts blocks of the READMEs of @acme/sdk and @acme/platform-node, as files for src/ */
const readmeExamples = (): ReadonlyArray<readonly [string, string]> =>
  ["sdk", "platform-node"].flatMap((name) => {
    const readme = fs.readFileSync(path.join(repositoryRoot, "packages", name, "README.md"), "utf8")
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] ?? "")
    expect(blocks.length).toBeGreaterThan(0)
    return blocks.map((code, index) => [`readme-${name}-${index}.ts`, code] as const)
  })

/** a new project in the scratch folder: package.json, tsconfig.json, src/main.ts and the README examples */
const project = (name: string, effect: EffectVersions): string => {
  const folder = path.join(scratch, name)
  fs.mkdirSync(path.join(folder, "src"), { recursive: true })
  const version = acmeVersion()
  fs.writeFileSync(
    path.join(folder, "package.json"),
    JSON.stringify(
      {
        name,
        private: true,
        type: "module",
        dependencies: {
          "@acme/sdk": version,
          "@acme/platform-node": version,
          ...effect
        },
        devDependencies: {
          "@acme/testing": version,
          "@types/node": "^20.19.0",
          typescript: catalog("typescript")
        }
      },
      null,
      2
    )
  )
  fs.writeFileSync(path.join(folder, "tsconfig.json"), JSON.stringify(tsconfig, null, 2))
  // the project's own .npmrc, as a project that takes a scope from a private registry has one
  fs.copyFileSync(npmrc, path.join(folder, ".npmrc"))
  fs.copyFileSync(path.join(import.meta.dirname, "fixtures/consumer/main.ts"), path.join(folder, "src/main.ts"))
  for (const [file, code] of readmeExamples()) fs.writeFileSync(path.join(folder, "src", file), code)
  return folder
}

interface Renewed {
  readonly certificates: ReadonlyArray<{ readonly name: string; readonly action: string }>
}

/** compiles with tsc, runs with node, and checks the certificate it stored */
const compileAndRenew = async (folder: string) => {
  await run(path.join(folder, "node_modules/.bin/tsc"), ["-p", "tsconfig.json"], { cwd: folder, env })
  const storage = path.join(folder, "certificates")
  const result = await run(process.execPath, [path.join(folder, "dist/main.js"), storage], { cwd: folder, env })
  // the last line: the report (Effect's default logger writes the run's log lines to stdout before it)
  const lines = result.stdout.trim().split("\n")
  const report = JSON.parse(lines[lines.length - 1] ?? "") as Renewed // test: the consumer prints Reporter.RunReport
  expect(report.certificates.map((c) => [c.name, c.action])).toEqual([["app", "renewed"]])
  const live = path.join(storage, "live", "app")
  const certificate = new X509Certificate(fs.readFileSync(path.join(live, "cert.pem")))
  expect(certificate.subjectAltName).toBe("DNS:app.consumer.example.test, DNS:www.consumer.example.test")
  expect(fs.statSync(path.join(live, "privkey.pem")).mode & 0o777).toBe(0o600)
}

/** every version of `name` in npm's tree of the project */
const npmVersions = async (folder: string, name: string): Promise<ReadonlyArray<string>> => {
  const { stdout } = await run("npm", ["ls", name, "--all", "--json"], { cwd: folder, env })
  const versions = new Set<string>()
  const walk = (node: unknown) => {
    if (typeof node !== "object" || node === null) return
    const dependencies = "dependencies" in node ? node.dependencies : undefined
    if (typeof dependencies !== "object" || dependencies === null) return
    for (const [dependency, child] of Object.entries(dependencies)) {
      if (dependency === name && typeof child === "object" && child !== null && "version" in child) {
        versions.add(String(child.version))
      }
      walk(child)
    }
  }
  walk(JSON.parse(stdout))
  return [...versions]
}

describe("a fresh project", () => {
  it("installs with npm, compiles with tsc and renews a certificate from Pebble", async () => {
    const folder = project("consumer-npm", current)
    await run("npm", ["install"], { cwd: folder, env })
    expect(await npmVersions(folder, "effect")).toEqual([current.effect])
    await compileAndRenew(folder)
  })

  it("installs with pnpm (no overrides, no peer warnings), compiles with tsc and renews a certificate from Pebble", async () => {
    const folder = project("consumer-pnpm", current)
    const install = await run("pnpm", ["install", "--config.confirmModulesPurge=false"], { cwd: folder, env })
    expect(`${install.stdout}${install.stderr}`).not.toMatch(/peer dependenc|ERR_PNPM/i)
    const copies = fs.readdirSync(path.join(folder, "node_modules/.pnpm")).filter((entry) => entry.startsWith("effect@"))
    expect(copies).toEqual([`effect@${current.effect}`])
    await compileAndRenew(folder)
  })

  it("with the oldest effect the peer ranges allow, npm keeps a single copy of effect, and it works", async () => {
    const folder = project("consumer-npm-oldest", oldest)
    await run("npm", ["install"], { cwd: folder, env })
    expect(await npmVersions(folder, "effect")).toEqual([oldest.effect])
    expect(await npmVersions(folder, "@effect/platform")).toEqual([oldest["@effect/platform"]])
    await compileAndRenew(folder)
  })
})
