/**
 * `acme issue` against a real Pebble: the certificate is issued by the renewal pipeline into the
 * usual storage layout and added to the configuration file (the user's other content kept), which
 * `acme status` and `acme renew` then read; bad command lines change nothing.
 */
import { Pebble } from "@acme/testing"
import { Reporter } from "@acme/sdk"
import { expect, layer } from "@effect/vitest"
import { Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import * as YAML from "yaml"
import { acme as run, type Options, temporaryFolder } from "./support/cli.js"

const acme = (args: ReadonlyArray<string>, options: Options = {}) => Effect.promise(() => run(args, options))

const reportOf = (stdout: string): Reporter.RunReport =>
  Schema.decodeUnknownSync(Reporter.RunReport)(JSON.parse(stdout))

const byName = (report: Reporter.RunReport, name: string) => report.certificates.find((c) => c.name === name)

/** a configuration file as a user left it: a comment, a certificate of their own, the Pebble CA */
const userFile = (pebble: Pebble.Service) =>
  [
    "# my acme configuration: keep this comment",
    "ca:",
    `  directory: ${pebble.directoryUrl}`,
    "  trust: [./pebble-ca.pem]",
    "account:",
    "  email: ops@example.com",
    "storage:",
    "  path: ./storage",
    "renewal:",
    "  maxAttempts: 2 # a comment of mine too",
    "certificates:",
    "  - name: mine",
    "    domains: [mine.issue.example.test]",
    `    challenge: { type: http-01, port: ${pebble.httpPort} }`,
    ""
  ].join("\n")

layer(Pebble.layer({ challengeServers: "external" }), { excludeTestServices: true, timeout: 120_000 })(
  "acme issue against Pebble",
  (it) => {
    it.scoped("issues, adds the certificate to the file keeping the rest, and acme renew then finds it not due", () =>
      Effect.gen(function*() {
        const pebble = yield* Pebble.Pebble
        const folder = yield* Effect.acquireRelease(Effect.sync(() => temporaryFolder()), (f) => Effect.sync(f.remove))
        const config = path.join(folder.path, "acme.yaml")
        fs.writeFileSync(path.join(folder.path, "pebble-ca.pem"), pebble.caBundle)
        fs.writeFileSync(config, userFile(pebble), { mode: 0o640 })
        const issued = yield* acme([
          "issue",
          "-d",
          "new.issue.example.test",
          "-d",
          "www.new.issue.example.test",
          "--email",
          "ops@example.com",
          "--http-port",
          String(pebble.httpPort),
          "--config",
          config,
          "--json"
        ])
        expect(issued.code, issued.stderr).toBe(0)
        const report = reportOf(issued.stdout)
        // the new certificate issued, the user's own left alone
        const issuedNew = byName(report, "new.issue.example.test")
        expect(report.certificates.map((c) => [c.name, c.action])).toEqual([["mine", "skipped"], ["new.issue.example.test", "renewed"]])
        const live = path.join(folder.path, "storage", "live", "new.issue.example.test")
        for (const file of ["cert.pem", "chain.pem", "fullchain.pem", "privkey.pem"]) {
          expect(fs.readFileSync(path.join(live, file), "utf8")).toMatch(/^-----BEGIN /)
        }
        expect((yield* pebble.certificateStatus(issuedNew?.serial ?? "")).status).toBe("Valid")

        // the file: the user's comments, settings and certificate kept, the new one added; same mode
        const text = fs.readFileSync(config, "utf8")
        expect(text).toContain("# my acme configuration: keep this comment")
        expect(text).toContain("maxAttempts: 2 # a comment of mine too")
        const data: unknown = YAML.parse(text)
        expect(data).toMatchObject({
          certificates: [
            { name: "mine", domains: ["mine.issue.example.test"] },
            {
              name: "new.issue.example.test",
              domains: ["new.issue.example.test", "www.new.issue.example.test"],
              challenge: { type: "http-01", port: pebble.httpPort }
            }
          ]
        })
        expect(fs.statSync(config).mode & 0o777).toBe(0o640)
        expect(fs.readdirSync(folder.path).filter((name) => name.includes(".tmp-"))).toEqual([])

        // the file is one acme renew reads, and it keeps the new certificate: valid, not due
        const renewed = yield* acme(["renew", "--only", "new.issue.example.test", "--config", config, "--json"])
        expect(renewed.code, renewed.stderr).toBe(0)
        const next = reportOf(renewed.stdout)
        expect(byName(next, "new.issue.example.test")?.action).toBe("skipped")
        expect(byName(next, "new.issue.example.test")?.serial).toBe(issuedNew?.serial)
        expect(next.counts).toMatchObject({ renewed: 0, failed: 0 })

        // issuing the same domains again adds nothing and issues nothing
        const again = yield* acme([
          "issue",
          "-d",
          "www.new.issue.example.test",
          "-d",
          "new.issue.example.test",
          "--email",
          "ops@example.com",
          "--http-port",
          String(pebble.httpPort),
          "--config",
          config,
          "--json"
        ])
        expect(again.code, again.stderr).toBe(0)
        expect(reportOf(again.stdout).counts).toMatchObject({ renewed: 0, failed: 0 })
        expect(fs.readFileSync(config, "utf8")).toBe(text)
      }))

    it.scoped("bad command lines: exit 2, one line, the file unchanged or not created", () =>
      Effect.gen(function*() {
        const pebble = yield* Pebble.Pebble
        const folder = yield* Effect.acquireRelease(Effect.sync(() => temporaryFolder()), (f) => Effect.sync(f.remove))
        const config = path.join(folder.path, "acme.yaml")
        fs.writeFileSync(config, userFile(pebble))
        const base = ["issue", "-d", "x.issue.example.test", "--email", "ops@example.com", "--config", config]

        const twoWays = yield* acme([...base, "--http-port", "5002", "--dns", "challtestsrv"])
        expect(twoWays.code).toBe(2)
        expect(twoWays.stderrLines[0]).toContain("needs one way to prove control")

        const otherCa = yield* acme([...base, "--http-port", "5002", "--server", "letsencrypt"])
        expect(otherCa.code).toBe(2)
        expect(otherCa.stderrLines[0]).toContain(`uses the CA ${pebble.directoryUrl}, not letsencrypt`)

        // found when the configuration is checked, before it is written
        const wildcard = yield* acme([...base.slice(0, 2), "*.issue.example.test", ...base.slice(3), "--http-port", "5002"])
        expect(wildcard.code).toBe(2)
        expect(wildcard.stderrLines[0]).toContain("only dns-01 or dns-account-01 can validate")
        expect(fs.readFileSync(config, "utf8")).toBe(userFile(pebble))

        const fresh = path.join(folder.path, "new", "acme.yaml")
        const cleartext = yield* acme([...base.slice(0, -1), fresh, "--http-port", "5002", "--server", "http://127.0.0.1:1/dir"])
        expect(cleartext.code).toBe(2)
        expect(cleartext.stderrLines[0]).toContain("is not encrypted")
        expect(fs.existsSync(fresh)).toBe(false)
      }))
  }
)
