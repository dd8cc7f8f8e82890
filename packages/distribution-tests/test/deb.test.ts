/**
 * The Debian package (`pnpm build:deb`), installed for real with dpkg on this machine: the files and
 * their modes, `acme --version`, systemd units installed hardened and disabled, and a purge that
 * leaves /var/lib/acme (keys and certificates) alone. The package is purged again at the end.
 *
 * dpkg needs root. Outside CI, a run as another user skips this file; under CI=true it fails
 * instead, because CI must not pass without having installed the package.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { debBuilder } from "./support/builders.js"
import { repositoryRoot, run } from "./support/workspace.js"

const isRoot = process.getuid?.() === 0
const inCi = process.env.CI !== undefined && process.env.CI !== "" && process.env.CI !== "false"

const packageName = "acme-effect"
const stateFolder = "/var/lib/acme"
const unitFolder = "/usr/lib/systemd/system"

const modeOf = (file: string): number => fs.statSync(file).mode & 0o7777

const isInstalled = async (): Promise<boolean> => {
  const result = await run("dpkg-query", ["-W", "-f", "${db:Status-Status}", packageName], { check: false })
  return result.code === 0 && result.stdout.trim() === "installed"
}

/** the value of each `Key=value` line of a unit file */
const directives = (file: string): Map<string, string> =>
  new Map(
    fs.readFileSync(file, "utf8").split("\n")
      .filter((line) => /^[A-Za-z]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)] as const)
  )

describe.skipIf(!isRoot && !inCi)("the Debian package", () => {
  let stateFolderExisted = true

  afterAll(async () => {
    if (!isRoot) return
    if (await isInstalled()) await run("dpkg", ["--purge", packageName], { check: false })
    if (!stateFolderExisted) fs.rmSync(stateFolder, { recursive: true, force: true })
  })

  it("installs with dpkg -i, and a purge keeps /var/lib/acme", async () => {
    expect(isRoot, "CI runs as root so that this test can install the package with dpkg").toBe(true)
    // refuse to touch an operator's installation (or Debian's acme assembler, which owns /usr/bin/acme too)
    expect(await isInstalled(), `${packageName} is installed on this machine: the test would remove it`).toBe(false)
    expect(fs.existsSync("/usr/bin/acme"), "/usr/bin/acme exists and is not from this package").toBe(false)
    stateFolderExisted = fs.existsSync(stateFolder)

    const deb = await (await debBuilder()).build()
    await run("dpkg", ["-i", deb], { env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } })
    expect(await isInstalled()).toBe(true)

    // the executable
    expect(modeOf("/usr/bin/acme")).toBe(0o755)
    const version = await run("/usr/bin/acme", ["--version"])
    const manifest: unknown = JSON.parse(fs.readFileSync(path.join(repositoryRoot, "apps/cli/package.json"), "utf8"))
    expect(manifest).toMatchObject({ version: version.stdout.trim() })

    // the example configuration: commented, storage in /var/lib/acme, a conffile
    const example = "/etc/acme/acme.yaml.example"
    expect(modeOf(example)).toBe(0o644)
    const text = fs.readFileSync(example, "utf8")
    expect(text.split("\n")[0]).toMatch(/^# /)
    expect(text).toContain("storage:\n  path: /var/lib/acme\n")
    expect(text).toContain("systemctl enable --now acme.timer")
    const conffiles = await run("dpkg-query", ["-W", "-f", "${Conffiles}", packageName])
    expect(conffiles.stdout).toContain(example)

    // the storage folder: root's alone, and not dpkg's (so that no removal can take it)
    const state = fs.statSync(stateFolder)
    expect(state.isDirectory()).toBe(true)
    expect(modeOf(stateFolder)).toBe(0o700)
    expect(state.uid).toBe(0)
    const listed = await run("dpkg", ["-L", packageName])
    expect(listed.stdout.split("\n")).not.toContain(stateFolder)

    // systemd: a hardened oneshot service and its timer, installed but not enabled
    const service = directives(path.join(unitFolder, "acme.service"))
    expect(service.get("ExecStart")).toBe("/usr/bin/acme renew --config /etc/acme/acme.yaml")
    expect(service.get("Type")).toBe("oneshot")
    expect(service.get("ProtectSystem")).toBe("strict")
    expect(service.get("ReadWritePaths")).toBe(stateFolder)
    expect(service.get("PrivateTmp")).toBe("yes")
    expect(service.get("NoNewPrivileges")).toBe("yes")
    const timer = directives(path.join(unitFolder, "acme.timer"))
    expect(timer.get("RandomizedDelaySec")).toMatch(/^\d+h$/)
    expect(timer.get("OnCalendar")).toBeDefined()
    expect(fs.existsSync("/etc/systemd/system/timers.target.wants/acme.timer")).toBe(false)

    // what a renewal would have left: it must survive the purge
    fs.writeFileSync(path.join(stateFolder, "kept-by-purge"), "a stand-in for keys and certificates\n", { mode: 0o600 })
    await run("dpkg", ["--purge", packageName])
    expect(await isInstalled()).toBe(false)
    for (const gone of ["/usr/bin/acme", example, path.join(unitFolder, "acme.service"), path.join(unitFolder, "acme.timer")]) {
      expect(fs.existsSync(gone), `${gone} after the purge`).toBe(false)
    }
    expect(fs.readFileSync(path.join(stateFolder, "kept-by-purge"), "utf8")).toContain("stand-in")
    expect(modeOf(stateFolder)).toBe(0o700)
    if (!stateFolderExisted) fs.rmSync(stateFolder, { recursive: true, force: true })
    else fs.rmSync(path.join(stateFolder, "kept-by-purge"), { force: true })
  })
})
