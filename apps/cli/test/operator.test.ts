/**
 * What a new operator ran into (issue 12, "Defects"), against the built binary: each test failed
 * before the fix. The ones that need no CA first, then those against Pebble.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Status } from "@acme/sdk"
import { Schema } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { acme, binary, stripAnsi, temporaryFolder } from "./support/cli.js"

const offline = temporaryFolder("acme-operator-")
afterAll(() => offline.remove())

const twoCertificates = {
  ca: { directory: "https://127.0.0.1:1/dir" },
  storage: { path: "./storage" },
  certificates: [
    { name: "web", domains: ["www.example.test"], challenge: { type: "http-01", port: 5002 } },
    { name: "api", domains: ["api.example.test"], challenge: { type: "http-01", port: 5002 } }
  ]
}

describe("without a CA", () => {
  it("status --only NAME shows that certificate alone; an unknown name or a bare --only is exit 2", async () => {
    fs.writeFileSync(path.join(offline.path, "acme.yaml"), JSON.stringify(twoCertificates))
    const only = await acme(["status", "--only", "api", "--json"], { cwd: offline.path })
    expect(only.code, only.stderr).toBe(0)
    const report = Schema.decodeUnknownSync(Schema.parseJson(Status.Report))(only.stdout)
    expect(report.certificates.map((c) => c.name)).toEqual(["api"])
    const unknown = await acme(["status", "--only", "nope"], { cwd: offline.path })
    expect(unknown.code).toBe(2)
    expect(unknown.stderrLines).toEqual(["acme: --only nope: no such certificate in acme.yaml; the configured names are web, api"])
    const bare = await acme(["status", "--only"], { cwd: offline.path })
    expect(bare.code).toBe(2)
    expect(bare.stderrLines).toEqual(["acme: --only needs a certificate name; acme status --only NAME"])
  })

  it("on a terminal: an unreachable CA's error is printed once, and the status line says what happens", async () => {
    const folder = temporaryFolder("acme-tty-")
    try {
      fs.writeFileSync(
        path.join(folder.path, "acme.yaml"),
        JSON.stringify({ ...twoCertificates, renewal: { maxAttempts: 3 }, certificates: twoCertificates.certificates.slice(0, 1) })
      )
      // `script` gives acme a terminal for stderr; stdout (the report) goes to a file
      const terminal = await acme(
        ["-qec", `${JSON.stringify(process.execPath)} ${JSON.stringify(binary)} renew > report.txt`, "/dev/null"],
        { cwd: folder.path, command: "script" }
      )
      const shown = stripAnsi(terminal.stdout)
      expect(shown.match(/ECONNREFUSED/g) ?? [], shown).toHaveLength(1)
      expect(shown).toMatch(/web: waiting [\d.]+ m?s before retrying account/)
      expect(shown).not.toMatch(/errorHandler|scheduler/)
      const report = fs.readFileSync(path.join(folder.path, "report.txt"), "utf8")
      expect(report).toMatch(/^failed +web +cannot reach the CA .*ECONNREFUSED.*gave up after 3 attempts/m)
    } finally {
      folder.remove()
    }
  })
})
