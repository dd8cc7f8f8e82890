/**
 * `acme install`: the hardened systemd service and timer for this configuration (or a cron line),
 * running the installed acme and not a source checkout; a different unit is not overwritten without
 * --force.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { acme, binary, temporaryFolder } from "./support/cli.js"

const folder = temporaryFolder()
const config = path.join(folder.path, "etc", "acme.yaml")
const units = path.join(folder.path, "units")
const installed = path.join(folder.path, "opt", "acme")

beforeAll(() => {
  fs.mkdirSync(path.dirname(config), { recursive: true })
  fs.mkdirSync(units)
  fs.writeFileSync(
    config,
    JSON.stringify({
      ca: { directory: "https://127.0.0.1:1/dir" },
      storage: { path: "../state" },
      certificates: [
        { name: "web", domains: ["www.example.test"], challenge: { type: "http-01", webroot: "/srv/www" } },
        { name: "api", domains: ["api.example.test"], challenge: { type: "http-01", port: 5002 } }
      ]
    })
  )
  // an installed acme (as npm -g leaves it): the bundle and its chunks outside any checkout
  fs.mkdirSync(installed, { recursive: true })
  for (const name of fs.readdirSync(path.dirname(binary))) {
    if (/^acme(-chunk-[\w-]+)?\.mjs$/.test(name)) fs.copyFileSync(path.join(path.dirname(binary), name), path.join(installed, name))
  }
})
afterAll(() => folder.remove())

/** `Key=value` lines of a unit, by key */
const directives = (text: string): Map<string, string> =>
  new Map(
    text.split("\n").filter((line) => /^\w+=/.test(line)).map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)])
  )

/** runs the installed copy of acme with node, as `acme` on PATH would */
const installedAcme = (args: ReadonlyArray<string>) =>
  acme([path.join(installed, "acme.mjs"), ...args], { command: process.execPath })

describe("acme install", () => {
  it("writes a hardened service and its timer that run the installed acme with this configuration", async () => {
    const result = await installedAcme(["install", "--config", config, "--dir", units])
    expect(result.code, result.stderr).toBe(0)
    const service = fs.readFileSync(path.join(units, "acme.service"), "utf8")
    const timer = fs.readFileSync(path.join(units, "acme.timer"), "utf8")
    const settings = directives(service)
    // node and the installed bundle, resolved: not the checkout the tests built it in
    expect(settings.get("ExecStart")).toBe(`${process.execPath} ${path.join(installed, "acme.mjs")} renew --config ${config}`)
    expect(settings.get("Type")).toBe("oneshot")
    expect(settings.get("ProtectSystem")).toBe("strict")
    // the storage (relative to the file's folder) and the http-01 webroot, nothing else
    expect(settings.get("ReadWritePaths")).toBe(`${path.join(folder.path, "state")} /srv/www`)
    expect(settings.get("PrivateTmp")).toBe("yes")
    expect(settings.get("NoNewPrivileges")).toBe("yes")
    expect(settings.get("ConditionPathExists")).toBe(config)
    const timing = directives(timer)
    expect(timing.get("RandomizedDelaySec")).toBe("12h")
    expect(timing.get("OnCalendar")).toBe("*-*-* 00,12:00:00")
    expect(timing.get("WantedBy")).toBe("timers.target")
    for (const unit of ["acme.service", "acme.timer"]) {
      expect(fs.statSync(path.join(units, unit)).mode & 0o777).toBe(0o644)
    }
    // nothing but the two units (no temp file left)
    expect(fs.readdirSync(units).sort()).toEqual(["acme.service", "acme.timer"])
    expect(result.stdout).toContain("systemctl enable --now acme.timer")

    // the same again: nothing to do
    const again = await installedAcme(["install", "--config", config, "--dir", units])
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toContain("up to date")
  })

  it("refuses to overwrite a unit with other content unless --force; writes neither unit then", async () => {
    const target = path.join(folder.path, "refused")
    fs.mkdirSync(target)
    fs.writeFileSync(path.join(target, "acme.timer"), "[Timer]\nOnCalendar=hourly\n")
    const refused = await installedAcme(["install", "--config", config, "--dir", target])
    expect(refused.code).toBe(2)
    expect(refused.stderrLines[0]).toContain(`${path.join(target, "acme.timer")} exists with other content`)
    expect(refused.stderr).toContain("--force")
    expect(fs.readFileSync(path.join(target, "acme.timer"), "utf8")).toBe("[Timer]\nOnCalendar=hourly\n")
    expect(fs.existsSync(path.join(target, "acme.service"))).toBe(false)

    const forced = await installedAcme(["install", "--config", config, "--dir", target, "--force"])
    expect(forced.code, forced.stderr).toBe(0)
    expect(directives(fs.readFileSync(path.join(target, "acme.timer"), "utf8")).get("RandomizedDelaySec")).toBe("12h")
  })

  it("--cron prints one crontab line, twice a day, and writes no unit", async () => {
    const target = path.join(folder.path, "cron")
    fs.mkdirSync(target)
    const result = await installedAcme(["install", "--config", config, "--dir", target, "--cron"])
    expect(result.code, result.stderr).toBe(0)
    const lines = result.stdout.trim().split("\n")
    expect(lines).toHaveLength(1)
    const match = /^(\d+) (\d+),(\d+) \* \* \* (.*)$/.exec(lines[0] ?? "")
    expect(match, lines[0]).not.toBeNull()
    expect(Number(match?.[1])).toBeLessThan(60)
    expect(Number(match?.[3]) - Number(match?.[2])).toBe(12)
    expect(match?.[4]).toBe(`${process.execPath} ${path.join(installed, "acme.mjs")} renew --config ${config}`)
    expect(fs.readdirSync(target)).toEqual([])
  })

  it("run from a source checkout, it refuses (exit 2) unless --binary says which acme the units run", async () => {
    const target = path.join(folder.path, "checkout")
    fs.mkdirSync(target)
    const refused = await acme(["install", "--config", config, "--dir", target])
    expect(refused.code).toBe(2)
    expect(refused.stderrLines[0]).toMatch(/runs from the source checkout .*, which a timer should not depend on/)
    expect(refused.stderr).toContain("--binary")
    expect(fs.readdirSync(target)).toEqual([])

    const executable = path.join(folder.path, "usr-bin-acme")
    fs.writeFileSync(executable, "#!/bin/sh\n", { mode: 0o755 })
    const given = await acme(["install", "--config", config, "--dir", target, "--binary", executable])
    expect(given.code, given.stderr).toBe(0)
    expect(directives(fs.readFileSync(path.join(target, "acme.service"), "utf8")).get("ExecStart")).toBe(
      `${executable} renew --config ${config}`
    )
  })
})
