/**
 * `acme init` writes a starter configuration that decodes (and so do its commented-out examples),
 * that `acme status` accepts, and that it never overwrites without --force.
 */
import { Either } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import * as ConfigFile from "../src/ConfigFile.js"
import * as StarterConfig from "../src/StarterConfig.js"
import { acme, temporaryFolder } from "./support/cli.js"

const folder = temporaryFolder()
afterAll(() => folder.remove())

const decodeText = (text: string) => Either.flatMap(ConfigFile.parse("acme.yaml", text), (data) => ConfigFile.decode("acme.yaml", data))

describe("the starter configuration", () => {
  it("decodes as it is", () => {
    const config = Either.getOrThrow(decodeText(StarterConfig.text))
    expect(config.ca.directory).toBe("letsencrypt-staging")
    expect(config.certificates.map((c) => c.challenge.type)).toEqual(["http-01"])
  })

  it("decodes with its commented-out examples uncommented: all three challenge types, EAB from the environment", () => {
    const config = Either.getOrThrow(decodeText(StarterConfig.withExamples))
    expect(config.certificates.map((c) => c.challenge.type)).toEqual(["http-01", "tls-alpn-01", "dns-01"])
    expect(config.ca.eab).toEqual({ kid: { env: "ACME_EAB_KID" }, hmacKey: { env: "ACME_EAB_HMAC_KEY" } })
    expect(config.renewal.daysBefore).toBe(30)
  })
})

describe("acme init", () => {
  it("writes a file that acme status accepts", async () => {
    const result = await acme(["init", "--config", "conf/acme.yaml"], { cwd: folder.path })
    expect(result.code).toBe(0)
    expect(result.stdout).toContain("wrote conf/acme.yaml")
    const file = path.join(folder.path, "conf", "acme.yaml")
    expect(fs.readFileSync(file, "utf8")).toBe(StarterConfig.text)
    expect(fs.statSync(file).mode & 0o777).toBe(0o600)

    const status = await acme(["status", "--json", "--config", "conf/acme.yaml"], { cwd: folder.path })
    expect(status.code).toBe(0)
    const report: unknown = JSON.parse(status.stdout)
    expect(report).toMatchObject({
      directoryUrl: "https://acme-staging-v02.api.letsencrypt.org/directory",
      certificates: [{ name: "web", domains: ["example.org", "www.example.org"], next: { action: "renew now" } }]
    })
  })

  it("refuses to overwrite an existing file without --force (exit code 2)", async () => {
    const file = path.join(folder.path, "acme.yaml")
    fs.writeFileSync(file, "mine\n")
    const refused = await acme(["init"], { cwd: folder.path })
    expect(refused.code).toBe(2)
    expect(refused.stderrLines).toEqual([
      "acme: acme.yaml exists already; it was left as it is; pass --force to overwrite it, or --config FILE to write another file"
    ])
    expect(fs.readFileSync(file, "utf8")).toBe("mine\n")

    const forced = await acme(["init", "--force"], { cwd: folder.path })
    expect(forced.code).toBe(0)
    expect(fs.readFileSync(file, "utf8")).toBe(StarterConfig.text)
  })
})
