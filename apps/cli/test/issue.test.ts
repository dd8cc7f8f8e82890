/**
 * `acme issue` against a real Pebble: the certificate is issued by the renewal pipeline into the
 * usual storage layout and added to the configuration file (the user's other content kept), which
 * `acme status` and `acme renew` then read; bad command lines change nothing.
 */
import { X509Certificate } from "node:crypto"
import { Pebble } from "@acme/testing"
import { Reporter } from "@acme/sdk"
import { expect, layer } from "@effect/vitest"
import { Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as http from "node:http"
import * as path from "node:path"
import * as YAML from "yaml"
import { acme as run, type Options, temporaryFolder } from "./support/cli.js"

/** a web server on 127.0.0.1:port that serves the files under `root`, as nginx would a webroot */
const webServer = (port: number, root: string) =>
  Effect.acquireRelease(
    Effect.async<http.Server>((resume) => {
      const server = http.createServer((request, response) => {
        const file = path.join(root, path.normalize(decodeURIComponent(new URL(request.url ?? "/", "http://x").pathname)))
        if (!file.startsWith(root) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
          response.writeHead(404).end()
          return
        }
        response.writeHead(200, { "content-type": "application/octet-stream" }).end(fs.readFileSync(file))
      })
      server.listen(port, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )

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

    it.scoped("--webroot: the token is written where a running web server serves it, and removed after", () =>
      Effect.gen(function*() {
        const pebble = yield* Pebble.Pebble
        const folder = yield* Effect.acquireRelease(Effect.sync(() => temporaryFolder()), (f) => Effect.sync(f.remove))
        const config = path.join(folder.path, "acme.yaml")
        fs.writeFileSync(path.join(folder.path, "pebble-ca.pem"), pebble.caBundle)
        fs.writeFileSync(config, userFile(pebble))
        const webroot = path.join(folder.path, "www")
        fs.mkdirSync(webroot)
        // what the web server was asked for: the CA's fetches of the token
        const served: Array<string> = []
        yield* webServer(pebble.httpPort, webroot).pipe(
          Effect.tap((server) => server.on("request", (request: http.IncomingMessage) => served.push(request.url ?? "")))
        )
        const issued = yield* acme(
          ["issue", "-d", "web.issue.example.test", "--email", "ops@example.com", "--webroot", webroot, "--config", config, "--json"]
        )
        expect(issued.code, issued.stderr).toBe(0)
        expect(byName(reportOf(issued.stdout), "web.issue.example.test")?.action).toBe("renewed")
        expect(fs.readFileSync(path.join(folder.path, "storage", "live", "web.issue.example.test", "cert.pem"), "utf8"))
          .toMatch(/^-----BEGIN CERTIFICATE-----/)
        // Pebble fetched the token through the web server, from the webroot; the token file is gone again
        expect(served.some((url) => url.startsWith("/.well-known/acme-challenge/"))).toBe(true)
        const left = fs.readdirSync(webroot, { recursive: true, encoding: "utf8" })
        expect(left.filter((file) => fs.statSync(path.join(webroot, file)).isFile())).toEqual([])
        expect(YAML.parse(fs.readFileSync(config, "utf8"))).toMatchObject({
          certificates: [
            { name: "mine" },
            { name: "web.issue.example.test", challenge: { type: "http-01", webroot } }
          ]
        })
      }))

    it.scoped("--dns PROVIDER: set up as a certificate in the file that uses the provider already; without one, exit 2", () =>
      Effect.gen(function*() {
        const pebble = yield* Pebble.Pebble
        const folder = yield* Effect.acquireRelease(Effect.sync(() => temporaryFolder()), (f) => Effect.sync(f.remove))
        const config = path.join(folder.path, "acme.yaml")
        fs.writeFileSync(path.join(folder.path, "pebble-ca.pem"), pebble.caBundle)
        const challtestsrv = { type: "dns-01", provider: "challtestsrv", url: pebble.challtestsrvUrl }
        // a file without a certificate through challtestsrv: its options (url) are nowhere
        fs.writeFileSync(config, userFile(pebble))
        const args = ["issue", "-d", "*.dns.issue.example.test", "-d", "dns.issue.example.test", "--email", "ops@example.com"]
        const unset = yield* acme([...args, "--dns", "challtestsrv", "--config", config])
        expect(unset.code).toBe(2)
        expect(unset.stderrLines).toHaveLength(1)
        expect(unset.stderrLines[0]).toContain("challenge.url: is required")
        expect(fs.readFileSync(config, "utf8")).toBe(userFile(pebble))

        // the user's own certificate through challtestsrv (other domains, the same zone)
        const text = userFile(pebble).replace(
          `    challenge: { type: http-01, port: ${pebble.httpPort} }`,
          `    challenge: { type: dns-01, provider: challtestsrv, url: "${pebble.challtestsrvUrl}" }`
        )
        fs.writeFileSync(config, text)
        const issued = yield* acme([...args, "--dns", "challtestsrv", "--config", config, "--json"])
        expect(issued.code, issued.stderr).toBe(0)
        expect(issued.stderr).toContain("its dns-01 setup (the provider's options) is certificate mine's")
        const report = reportOf(issued.stdout)
        expect(byName(report, "wildcard.dns.issue.example.test")?.action).toBe("renewed")
        expect((yield* pebble.certificateStatus(byName(report, "wildcard.dns.issue.example.test")?.serial ?? "")).status)
          .toBe("Valid")
        const cert = fs.readFileSync(path.join(folder.path, "storage", "live", "wildcard.dns.issue.example.test", "cert.pem"))
        expect(new X509Certificate(cert).subjectAltName?.split(", ").sort()).toEqual(
          ["DNS:*.dns.issue.example.test", "DNS:dns.issue.example.test"]
        )
        expect(YAML.parse(fs.readFileSync(config, "utf8"))).toMatchObject({
          certificates: [
            { name: "mine", challenge: challtestsrv },
            { name: "wildcard.dns.issue.example.test", domains: ["*.dns.issue.example.test", "dns.issue.example.test"], challenge: challtestsrv }
          ]
        })
      }))

    it.scoped("--config FILE that does not exist: created (0600, its folder too), then acme renew --config FILE finds the certificate valid", () =>
      Effect.gen(function*() {
        const pebble = yield* Pebble.Pebble
        const folder = yield* Effect.acquireRelease(Effect.sync(() => temporaryFolder()), (f) => Effect.sync(f.remove))
        const caFile = path.join(folder.path, "pebble-ca.pem")
        fs.writeFileSync(caFile, pebble.caBundle)
        // a new file has no ca.trust: Pebble's root is trusted as a private CA's would be, through node
        const env = { NODE_EXTRA_CA_CERTS: caFile }
        const config = path.join(folder.path, "etc", "acme", "acme.yaml")
        const issued = yield* acme([
          "issue",
          "-d",
          "fresh.issue.example.test",
          "--email",
          "ops@example.com",
          "--http-port",
          String(pebble.httpPort),
          "--server",
          pebble.directoryUrl,
          "--config",
          config,
          "--json"
        ], { env, cwd: folder.path })
        expect(issued.code, issued.stderr).toBe(0)
        expect(issued.stderr).toContain(`added certificate fresh.issue.example.test to ${config}`)
        const first = byName(reportOf(issued.stdout), "fresh.issue.example.test")
        expect(first?.action).toBe("renewed")
        expect(fs.statSync(config).mode & 0o777).toBe(0o600)
        expect(YAML.parse(fs.readFileSync(config, "utf8"))).toEqual({
          ca: { directory: pebble.directoryUrl },
          account: { email: "ops@example.com" },
          storage: { path: "./acme-data" },
          certificates: [{
            name: "fresh.issue.example.test",
            domains: ["fresh.issue.example.test"],
            challenge: { type: "http-01", port: pebble.httpPort }
          }]
        })
        // the storage next to the file, not in the working folder
        const live = path.join(folder.path, "etc", "acme", "acme-data", "live", "fresh.issue.example.test", "cert.pem")
        expect(new X509Certificate(fs.readFileSync(live)).serialNumber).toBe(first?.serial)

        const renewed = yield* acme(["renew", "--config", config, "--json"], { env, cwd: folder.path })
        expect(renewed.code, renewed.stderr).toBe(0)
        const next = reportOf(renewed.stdout)
        expect(next.counts).toMatchObject({ renewed: 0, skipped: 1, failed: 0 })
        expect(byName(next, "fresh.issue.example.test")).toMatchObject({ action: "skipped", serial: first?.serial })
      }))

    it.scoped("--server letsencrypt-staging: the file names the preset, and the run goes to the staging directory (stopped before any request)", () =>
      Effect.gen(function*() {
        const folder = yield* Effect.acquireRelease(Effect.sync(() => temporaryFolder()), (f) => Effect.sync(f.remove))
        const config = path.join(folder.path, "acme.yaml")
        // the test hook kills the process before the first stage, which is the first to talk to the CA:
        // nothing goes out to Let's Encrypt, and the run's first line names the CA it would have used
        const issued = yield* acme([
          "issue",
          "-d",
          "staging.issue.example.test",
          "--email",
          "ops@example.com",
          "--http-port",
          "5002",
          "--server",
          "letsencrypt-staging",
          "--config",
          config
        ], { env: { ACME_TEST_CRASH_AT: "before:scan" }, cwd: folder.path })
        expect(issued.signal).toBe("SIGKILL")
        expect(YAML.parse(fs.readFileSync(config, "utf8"))).toMatchObject({
          ca: { directory: "letsencrypt-staging" },
          certificates: [{ name: "staging.issue.example.test" }]
        })
        expect(issued.stderr).toMatch(
          /^\S+ run \S+ started \(CA https:\/\/acme-staging-v02\.api\.letsencrypt\.org\/directory\)$/m
        )
        // nothing but the run's lease was written: no account, no key
        const storage = path.join(folder.path, "acme-data")
        expect(fs.readdirSync(storage)).toEqual(["leases"])
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
