/**
 * What a new operator ran into (issue 12, "Defects"), against the built binary: each test failed
 * before the fix. The ones that need no CA first, then those against Pebble.
 */
import { X509Certificate } from "node:crypto"
import * as fs from "node:fs"
import * as http from "node:http"
import * as path from "node:path"
import { Pebble } from "@acme/testing"
import { Status, Storage } from "@acme/sdk"
import { layer } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { afterAll, describe, expect, it, vi } from "vitest"
import { reportOf } from "./support/checks.js"
import { acme, acmeWatched, binary, type Options, type Result, stripAnsi, temporaryFolder } from "./support/cli.js"

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

  it("a directory URL that answers 404 with an HTML page: says so, in plain words (no Schema text)", async () => {
    const server = http.createServer((_, response) => {
      response.writeHead(404, { "content-type": "text/html" }).end("<!DOCTYPE html><html><body>Not Found</body></html>")
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const address = server.address()
    const url = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}/dir`
    try {
      fs.writeFileSync(
        path.join(offline.path, "html.json"),
        JSON.stringify({ ...twoCertificates, ca: { directory: url, insecure: true } })
      )
      const result = await acme(["renew", "--only", "web", "--json", "--config", "html.json"], { cwd: offline.path })
      expect(result.code).toBe(1)
      expect(reportOf(result).certificates.find((c) => c.name === "web")).toMatchObject({
        action: "failed",
        attempts: 1,
        reason: `the CA answered 404 to GET ${url} with an HTML page, not an ACME response: is the directory URL right?`
      })
      expect(result.stderr).not.toMatch(/parseJson|<->|Encoded side|Struct/)
    } finally {
      server.close()
    }
  })

  it("renew --dry-run where the storage cannot be written: says so (exit 1) instead of what it would renew", async () => {
    fs.writeFileSync(path.join(offline.path, "blocker"), "a file where the storage's parent folder should be\n")
    fs.writeFileSync(
      path.join(offline.path, "blocked.json"),
      JSON.stringify({ ...twoCertificates, storage: { path: "./blocker/storage" } })
    )
    const result = await acme(["renew", "--dry-run", "--config", "blocked.json"], { cwd: offline.path })
    expect(result.code).toBe(1)
    expect(result.stdout).toBe("")
    expect(result.stderrLines.at(-1)).toBe(
      `acme: the storage ${path.join(offline.path, "blocker", "storage")} is not writable (${
        path.join(offline.path, "blocker")
      }: it is not a folder): a real run would fail there; make the storage folder (storage.path) writable for the user running acme, and remount its file system read-write if it is mounted read-only`
    )
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

// -- against Pebble ---------------------------------------------------------------------------------

interface Setup {
  readonly folder: string
  readonly storage: string
  readonly run: (args: ReadonlyArray<string>, options?: Options) => Effect.Effect<Result>
  /** rewrites acme.yaml with these certificates and changes to the rest */
  readonly configure: (certificates: ReadonlyArray<unknown>, extra?: object) => void
}

/** A folder with acme.yaml for this Pebble (trusting its root) and the given certificates. */
const setUp = (prefix: string, certificates: ReadonlyArray<unknown>, extra: object = {}) =>
  Effect.gen(function*() {
    const pebble = yield* Pebble.Pebble
    const folder = yield* Effect.acquireRelease(Effect.sync(() => temporaryFolder(prefix)), (f) => Effect.sync(f.remove))
    fs.writeFileSync(path.join(folder.path, "ca.pem"), pebble.caBundle)
    const configure: Setup["configure"] = (list, more = {}) =>
      fs.writeFileSync(
        path.join(folder.path, "acme.yaml"),
        JSON.stringify({
          ca: { directory: pebble.directoryUrl, trust: ["./ca.pem"] },
          account: { email: "operator@example.test" },
          storage: { path: "./storage" },
          renewal: { maxAttempts: 2, maxWait: "5 seconds" },
          certificates: list,
          ...more
        })
      )
    configure(certificates, extra)
    const setup: Setup = {
      folder: folder.path,
      storage: path.join(folder.path, "storage"),
      run: (args, options = {}) => Effect.promise(() => acme(args, { cwd: folder.path, ...options })),
      configure
    }
    return setup
  })

const http01 = (pebble: Pebble.Service, name: string, domain: string, more: object = {}) => ({
  name,
  domains: [domain],
  challenge: { type: "http-01", port: pebble.httpPort, address: "127.0.0.1" },
  ...more
})

// each test runs the binary five to fifteen times: seconds alone, a minute and more on the CI machine
// while the other packages' suites run beside it
vi.setConfig({ testTimeout: 180_000 })

layer(Pebble.layer({ challengeServers: "external" }), { excludeTestServices: true, timeout: 120_000 })(
  "against Pebble",
  (it) => {
    it.scoped("serial numbers as openssl prints them (the CA's bytes: upper-case, a leading zero kept)", () =>
      Effect.gen(function*() {
        const pebble = yield* Pebble.Pebble
        const setup = yield* setUp("acme-serial-", [http01(pebble, "web", "web.serial.example.test")])
        const result = yield* setup.run(["renew", "--json"])
        expect(result.code, result.stderr).toBe(0)
        const openssl = new X509Certificate(fs.readFileSync(path.join(setup.storage, "live", "web", "cert.pem"))).serialNumber
        expect(reportOf(result).certificates[0]?.serial).toBe(openssl)
        const status = yield* setup.run(["status", "--json"])
        expect(Schema.decodeUnknownSync(Schema.parseJson(Status.Report))(status.stdout).certificates[0]?.serial).toBe(openssl)
      }))

    it.scoped("under umask 000: folders holding private keys are 0700, and no folder is writable by others", () =>
      Effect.gen(function*() {
        const pebble = yield* Pebble.Pebble
        const setup = yield* setUp("acme-umask-", [http01(pebble, "web", "web.umask.example.test")])
        const result = yield* setup.run(
          ["-c", `umask 000 && exec ${JSON.stringify(process.execPath)} ${JSON.stringify(binary)} renew`],
          { command: "/bin/sh" }
        )
        expect(result.code, result.stderr).toBe(0)
        const folders = [setup.storage, ...fs.readdirSync(setup.storage, { recursive: true, encoding: "utf8" })
          .map((entry) => path.join(setup.storage, entry))
          .filter((entry) => fs.lstatSync(entry).isDirectory())]
        const holdingKeys = folders.filter((folder) =>
          fs.readdirSync(folder).some((file) => file === "privkey.pem" || file.endsWith(".key"))
        )
        expect(holdingKeys.length).toBeGreaterThanOrEqual(2) // the version folder, the account's
        for (const folder of holdingKeys) expect((fs.statSync(folder).mode & 0o777).toString(8), folder).toBe("700")
        for (const folder of folders) expect(fs.statSync(folder).mode & 0o022, folder).toBe(0)
        for (const file of ["privkey.pem", "cert.pem"]) {
          expect(fs.statSync(path.join(setup.storage, "live", "web", file)).mode & 0o077, file).toBe(file === "privkey.pem" ? 0 : 0o044)
        }
      }))

    it.scoped("account rollover leaves nothing in the account namespace; an old leftover is cleaned up and no longer taken for an account", () =>
      Effect.gen(function*() {
        const pebble = yield* Pebble.Pebble
        const setup = yield* setUp("acme-rollover-", [http01(pebble, "web", "web.rollover.example.test")])
        const accounts = path.join(setup.storage, "accounts", Storage.caFolder(pebble.directoryUrl))
        expect((yield* setup.run(["renew"])).code).toBe(0)
        const rolled = yield* setup.run(["account", "rollover", "--json"])
        expect(rolled.code, rolled.stderr).toBe(0)
        expect(fs.readdirSync(accounts)).toEqual(["default"])
        expect(fs.readdirSync(path.join(accounts, "default")).sort()).toEqual(["account.json", "account.key"])
        const defaultUrl = (JSON.parse(rolled.stdout) as { url: string }).url

        // what an older version left: the new key kept as an account named default-rollover
        fs.mkdirSync(path.join(accounts, "default-rollover"))
        fs.copyFileSync(path.join(accounts, "default", "account.key"), path.join(accounts, "default-rollover", "account.key"))
        expect((yield* setup.run(["status"])).code).toBe(0)
        expect(fs.readdirSync(accounts)).toEqual(["default"])

        // default-rollover as a real account's name: a new account, not default's
        setup.configure([http01(pebble, "web", "web.rollover.example.test")], { account: { name: "default-rollover" } })
        expect((yield* setup.run(["renew", "--force"])).code).toBe(0)
        const other = yield* setup.run(["account", "show", "--json"])
        expect(other.code, other.stderr).toBe(0)
        expect(JSON.parse(other.stdout)).toMatchObject({ name: "default-rollover", status: "valid" })
        expect((JSON.parse(other.stdout) as { url: string }).url).not.toBe(defaultUrl)
      }))

    it.scoped("a changed account.email updates the contact at the next run; a deactivated account says how to go on", () =>
      Effect.gen(function*() {
        const pebble = yield* Pebble.Pebble
        const certificates = [http01(pebble, "web", "web.deactivated.example.test")]
        const setup = yield* setUp("acme-deactivated-", certificates)
        expect((yield* setup.run(["renew"])).code).toBe(0)

        setup.configure(certificates, { account: { email: "new-address@example.test" } })
        const renewed = yield* setup.run(["renew", "--force"])
        expect(renewed.code, renewed.stderr).toBe(0)
        expect(renewed.stderr).toMatch(/account\.email changed: the contact of account \S+ at \S+ is now mailto:new-address@example\.test \(was mailto:operator@example\.test\)/)
        const shown = yield* setup.run(["account", "show", "--json"])
        expect(JSON.parse(shown.stdout)).toMatchObject({ contact: ["mailto:new-address@example.test"] })

        expect((yield* setup.run(["account", "deactivate", "--yes"])).code).toBe(0)
        const after = yield* setup.run(["account", "show"])
        expect(after.code, after.stderr).toBe(0)
        expect(after.stdout).toMatch(/^status +deactivated \(on .*\): it cannot be used again; set account\.name to a new name/m)
        const refused = yield* setup.run(["renew", "--force", "--json"])
        expect(refused.code).toBe(1)
        const web = reportOf(refused).certificates[0]
        expect(web).toMatchObject({ action: "failed", attempts: 1 })
        expect(web?.reason).toContain("was deactivated on")
        expect(web?.reason).toContain("set account.name to a new name")
        expect(refused.stdout + refused.stderr).not.toContain("check the credentials")
      }))

    it.scoped("a failed deploy hook is not forgotten: retried (the hook alone) by each run until it succeeds; status and --json show it", () =>
      Effect.gen(function*() {
        const pebble = yield* Pebble.Pebble
        const hook = `test -e fail-hook && { echo "nginx: not reloaded" >&2; exit 3; }; echo "deployed $ACME_SERIAL" | tee -a hook.log`
        const certificates = [http01(pebble, "web", "web.deploy.example.test", { deployHook: hook })]
        const setup = yield* setUp("acme-deploy-", certificates)
        const marker = path.join(setup.folder, "fail-hook")
        fs.writeFileSync(marker, "")

        const first = yield* setup.run(["renew", "--json"])
        expect(first.code).toBe(1)
        const failed = reportOf(first).certificates[0]
        expect(failed).toMatchObject({ name: "web", action: "failed", deploy: { status: "pending", attempts: 1 } })
        expect(failed?.reason).toContain("nginx: not reloaded")
        const serial = failed?.serial ?? ""
        expect(serial).not.toBe("")

        const status = yield* setup.run(["status", "--json"])
        expect(Schema.decodeUnknownSync(Schema.parseJson(Status.Report))(status.stdout).certificates[0]?.pendingDeploy)
          .toMatchObject({ attempts: 1 })
        const statusText = yield* setup.run(["status"])
        expect(statusText.stdout).toMatch(/^ {2}deploy +failed 1 time since .*nginx: not reloaded.*; the next `acme renew` runs the hook again/m)

        // still failing: the hook alone runs again (no new certificate), and the run fails
        const second = yield* setup.run(["renew", "--json"])
        expect(second.code).toBe(1)
        const again = reportOf(second).certificates[0]
        expect(again).toMatchObject({ action: "failed", serial, deploy: { status: "pending", attempts: 2 } })
        expect(again?.reason).toContain("deploy hook failed again")

        // fixed: the hook runs once more, succeeds, and its output shows with -v
        fs.rmSync(marker)
        const third = yield* setup.run(["renew", "--json", "--verbose"])
        expect(third.code, third.stderr).toBe(0)
        const done = reportOf(third)
        expect(done.certificates[0]).toMatchObject({ action: "skipped", serial, deploy: { status: "done" } })
        expect(done.certificates[0]?.reason).toContain("deploy hook, which had failed, ran again and succeeded")
        expect(third.stderr).toContain(`deployed ${serial}`)
        expect(fs.readFileSync(path.join(setup.folder, "hook.log"), "utf8")).toBe(`deployed ${serial}\n`)

        // and then it is done: nothing runs, skipped entries have their files and days left
        const fourth = yield* setup.run(["renew", "--json"])
        expect(fourth.code, fourth.stderr).toBe(0)
        const quiet = reportOf(fourth)
        expect(quiet.counts).toEqual({ renewed: 0, skipped: 1, failed: 0, revoked: 0 })
        expect(quiet.certificates[0]?.deploy).toBeUndefined()
        expect(quiet.certificates[0]?.paths?.fullchain).toBe(path.join(setup.storage, "live", "web", "fullchain.pem"))
        expect(quiet.certificates[0]?.daysLeft).toBeGreaterThan(1)
        expect(fs.readFileSync(path.join(setup.folder, "hook.log"), "utf8")).toBe(`deployed ${serial}\n`)
        const clean = yield* setup.run(["status", "--json"])
        expect(Schema.decodeUnknownSync(Schema.parseJson(Status.Report))(clean.stdout).certificates[0]?.pendingDeploy).toBeUndefined()
      }))

    it.scoped("a deploy hook that succeeds the first time: what it printed shows on stderr with -v, and not without", () =>
      Effect.gen(function*() {
        const pebble = yield* Pebble.Pebble
        // a line on stdout and one on stderr, and a log to tell that the hook ran
        const hook = `echo "reloaded nginx for $ACME_SERIAL"; echo "warned on stderr" >&2; echo "$ACME_SERIAL" >> hook.log`
        const setup = yield* setUp("acme-hook-output-", [http01(pebble, "web", "web.hook-output.example.test", { deployHook: hook })])
        const log = () => fs.readFileSync(path.join(setup.folder, "hook.log"), "utf8").trim().split("\n")

        const quiet = yield* setup.run(["renew", "--json"])
        expect(quiet.code, quiet.stderr).toBe(0)
        const first = reportOf(quiet).certificates[0]
        expect(first?.action).toBe("renewed")
        expect(log()).toEqual([first?.serial])
        // it ran, and said nothing on acme's stderr or stdout (only the JSON report there)
        expect(quiet.stderr).not.toContain("reloaded nginx")
        expect(quiet.stderr).not.toContain("warned on stderr")
        expect(quiet.stdout).not.toContain("reloaded nginx")

        const verbose = yield* setup.run(["renew", "--json", "--force", "-v"])
        expect(verbose.code, verbose.stderr).toBe(0)
        const second = reportOf(verbose).certificates[0]
        expect(second?.action).toBe("renewed")
        expect(second?.serial).not.toBe(first?.serial)
        expect(log()).toEqual([first?.serial, second?.serial])
        // one line on stderr names the certificate and carries both lines the hook printed
        const said = verbose.stderrLines.filter((line) => line.includes(`reloaded nginx for ${second?.serial}`))
        expect(said).toHaveLength(1)
        expect(said[0]).toContain("deploy hook of web succeeded")
        expect(said[0]).toContain("warned on stderr")
        expect(verbose.stdout).not.toContain("reloaded nginx")
        expect(reportOf(verbose).certificates).toHaveLength(1)
      }))

    it.scoped("renew --json, stopped by SIGTERM: one JSON document with what was done so far, marked interrupted", () =>
      Effect.gen(function*() {
        const pebble = yield* Pebble.Pebble
        const setup = yield* setUp("acme-sigterm-", [
          http01(pebble, "first", "first.sigterm.example.test"),
          http01(pebble, "second", "second.sigterm.example.test")
        ])
        const result = yield* Effect.promise(() =>
          acmeWatched(["renew", "--json"], { cwd: setup.folder }, (line, child) => {
            if (/ second: stage order started$/.test(line)) child.kill("SIGTERM")
          })
        )
        expect(result.code).toBe(130)
        const report = reportOf(result)
        expect(report.interrupted).toBe(true)
        expect(report.certificates.map((c) => [c.name, c.action])).toEqual([["first", "renewed"], ["second", "skipped"]])
        expect(report.certificates[1]?.reason).toMatch(/^interrupted .*order.*; the next `acme renew` resumes it/)
        expect(report.counts).toEqual({ renewed: 1, skipped: 1, failed: 0, revoked: 0 })
        // and the next run resumes it and finishes the job
        const next = yield* setup.run(["renew", "--json"])
        expect(next.code, next.stderr).toBe(0)
        expect(reportOf(next)).toMatchObject({ runId: report.runId, resumed: true })
        expect(reportOf(next).certificates.map((c) => [c.name, c.action])).toEqual([["first", "renewed"], ["second", "renewed"]])
      }))

    it.scoped("a CA whose TLS certificate is not trusted: final at once (no retries), with a hint about ca.trust", () =>
      Effect.gen(function*() {
        const pebble = yield* Pebble.Pebble
        const setup = yield* setUp("acme-trust-", [http01(pebble, "web", "web.trust.example.test")], {
          ca: { directory: pebble.directoryUrl },
          renewal: { maxAttempts: 5 }
        })
        const result = yield* setup.run(["renew", "--json"])
        expect(result.code).toBe(1)
        const report = reportOf(result)
        expect(report.certificates[0]).toMatchObject({ name: "web", action: "failed", attempts: 1 })
        expect(report.certificates[0]?.reason).toMatch(/is not trusted .*add its root certificate to ca\.trust/)
        expect(result.stderr).not.toMatch(/attempt 2 of/)
      }))
  }
)
