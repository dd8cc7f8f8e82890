/**
 * `acme doctor`, the real binary against Pebble (the CA: its directory, Date header and accounts;
 * behind the FaultProxy where the test needs a CA whose clock is off) and BIND (the DNS the checks resolve through with --resolver: A records, CAA records, RFC 2136
 * updates with TSIG). Every kind of check fails in one configuration and passes in another.
 */
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { Doctor } from "@acme/sdk"
import { Bind, FaultProxy, Pebble } from "@acme/testing"
import { expect, layer } from "@effect/vitest"
import { vi } from "vitest"
import { Effect, Layer, Schema } from "effect"
import { acme, type Result, temporaryFolder } from "./support/cli.js"

// each test runs several acme processes (doctor, renew, account): minutes under CI's parallel load
vi.setConfig({ testTimeout: 180_000 })

const zone: Bind.Zone = {
  name: "test",
  updatable: true,
  records: [
    "www.ok IN A 127.0.0.1",
    "dns.ok IN A 127.0.0.1",
    "ok IN CAA 0 issue \"letsencrypt.org\"",
    "forbidden IN A 127.0.0.1",
    "forbidden IN CAA 0 issue \"other-ca.example\""
  ]
}

const services = Layer.mergeAll(
  Bind.layer({ zones: [zone] }),
  // the proxy in front of Pebble changes the Date header of an answer for the clock check
  FaultProxy.layer.pipe(Layer.provideMerge(Pebble.layer({ challengeServers: "external" })))
)

const freePort = () =>
  Effect.async<number>((resume) => {
    const server = net.createServer()
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resume(Effect.succeed(port)))
    })
  })

/** a server listening on 127.0.0.1:port while `use` runs: the port is taken */
const holdingPort = <A, E, R>(port: number, use: Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.async<net.Server>((resume) => {
      const server = net.createServer()
      server.listen(port, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    () => use,
    (server) =>
      Effect.async<void>((resume) => {
        server.close(() => resume(Effect.void))
      })
  )

/** writes the configuration into a fresh folder, runs `acme doctor` there, removes the folder */
const doctor = (
  config: (folder: string) => Record<string, unknown>,
  args: ReadonlyArray<string>,
  prepare: (folder: string) => void = () => {},
  after: (folder: string) => void = () => {}
) =>
  Effect.acquireUseRelease(
    Effect.sync(() => temporaryFolder("acme-doctor-")),
    (folder) =>
      Effect.promise(async () => {
        prepare(folder.path)
        fs.writeFileSync(path.join(folder.path, "acme.yaml"), JSON.stringify(config(folder.path)))
        const result = await acme(["doctor", ...args], { cwd: folder.path })
        after(folder.path)
        return result
      }),
    (folder) => Effect.sync(folder.remove)
  )

const decodeReport = Schema.decodeUnknownSync(Schema.parseJson(Doctor.Report))

const find = (report: Doctor.Report, check: string, subject: string) =>
  report.checks.filter((c) => c.check === check && (c.subject === subject || c.certificate === subject))

/** the --json report of a run, after checking that its exit code says whether a check failed */
const reportOf = (result: Result) => {
  const report = decodeReport(result.stdout)
  expect(result.code, result.stderr).toBe(report.ok ? 0 : 1)
  expect(report.ok).toBe(report.counts.fail === 0)
  return report
}

/** the checks that did not pass (failed or warned), as [check, subject] */
const notPassed = (report: Doctor.Report) =>
  report.checks.filter((c) => c.status === "fail" || c.status === "warn").map((c) => [c.check, c.subject])

layer(services, { excludeTestServices: true, timeout: 90_000 })("acme doctor", (it) => {
  it.effect("everything in order: every check passes, exit code 0, the --json report says so", () =>
    Effect.gen(function*() {
      const bind = yield* Bind.Bind
      const pebble = yield* Pebble.Pebble
      const port = yield* freePort()
      const config = () => ({
        ca: { directory: pebble.directoryUrl, preset: "letsencrypt", trust: [pebble.caBundle] },
        storage: { path: "./storage" },
        certificates: [
          { name: "web", domains: ["www.ok.test"], challenge: { type: "http-01", port, address: "127.0.0.1" } },
          {
            name: "dns",
            domains: ["dns.ok.test"],
            challenge: {
              type: "dns-01",
              provider: "rfc2136",
              server: bind.server,
              tsig: { name: bind.keys.sha256.name, secret: bind.keys.sha256.secret },
              propagation: { nameservers: [bind.server] }
            }
          }
        ]
      })
      // a storage as renew leaves it: keys 0600 in 0700 folders
      const storage = (folder: string) => {
        const accounts = path.join(folder, "storage", "accounts", "ca", "other")
        fs.mkdirSync(accounts, { recursive: true, mode: 0o700 })
        fs.chmodSync(accounts, 0o700)
        fs.writeFileSync(path.join(accounts, "account.key"), "not a key\n", { mode: 0o600 })
      }
      const args = ["--resolver", bind.server, "--http01-port", String(port)]
      const result = yield* doctor(config, [...args, "--json"], storage)
      expect(result.stderr).not.toContain("acme:")
      expect(result.code).toBe(0)
      const report = decodeReport(result.stdout)
      expect(report.ok).toBe(true)
      expect(report.counts.fail).toBe(0)
      const statuses = (check: string, subject: string) => find(report, check, subject).map((c) => c.status)
      expect(statuses("ca", pebble.directoryUrl)).toEqual(["ok"])
      expect(statuses("clock", pebble.directoryUrl)).toEqual(["ok"])
      expect(statuses("eab", pebble.directoryUrl)).toEqual(["skip"])
      expect(statuses("account", "default")).toEqual(["ok"])
      expect(find(report, "account", "default")[0]?.message).toContain("no account")
      expect(report.checks.filter((c) => c.check === "storage").map((c) => c.status)).toEqual(["ok"])
      expect(statuses("dns", "www.ok.test")).toEqual(["ok"])
      expect(find(report, "dns", "www.ok.test")[0]?.message).toBe("resolves to 127.0.0.1")
      expect(find(report, "caa", "www.ok.test")[0]).toMatchObject({ status: "ok", message: expect.stringContaining("CAA at ok.test allows") })
      expect(find(report, "http-01", "www.ok.test")[0]).toMatchObject({ status: "ok", message: expect.stringContaining("came back") })
      expect(find(report, "dns-01", "dns.ok.test").map((c) => c.status)).toEqual(["ok", "ok"])
      // the test record was added and deleted again
      const log = (yield* bind.recentOutput).join("\n")
      expect(log).toMatch(/adding an RR at '_acme-challenge\.dns\.ok\.test'/)
      expect(log).toMatch(/deleting an RR at _acme-challenge\.dns\.ok\.test TXT/)

      // the same for people: one line per check, the counts last
      const text = yield* doctor(config, args, storage)
      expect(text.code).toBe(0)
      const lines = text.stdout.trim().split("\n")
      expect(lines).toContain("ok    dns          web www.ok.test: resolves to 127.0.0.1")
      expect(lines.at(-1)).toMatch(/^\d+ checks: \d+ ok, 0 failed, /)
    }))

  it.effect("something wrong in every kind of check: each a FAIL line with its fix, exit code 1", () =>
    Effect.gen(function*() {
      const bind = yield* Bind.Bind
      const pebble = yield* Pebble.Pebble
      const port = yield* freePort()
      const deadPort = yield* freePort()
      const config = (folder: string) => ({
        // ZeroSSL's constraints (EAB required, CAA sectigo.com) on Pebble's URL, and no EAB
        ca: { directory: pebble.directoryUrl, preset: "zerossl", trust: [pebble.caBundle] },
        storage: { path: "./storage" },
        certificates: [
          {
            name: "nowhere",
            domains: ["missing.test"],
            challenge: { type: "http-01", webroot: path.join(folder, "broken-webroot") }
          },
          {
            name: "forbidden",
            domains: ["forbidden.test"],
            challenge: { type: "http-01", webroot: path.join(folder, "webroot") }
          },
          {
            name: "badkey",
            domains: ["dns.ok.test"],
            challenge: {
              type: "dns-01",
              provider: "rfc2136",
              server: bind.server,
              tsig: { name: bind.keys.sha256.name, secret: Buffer.alloc(32, 7).toString("base64") },
              propagation: { nameservers: [bind.server] }
            }
          },
          {
            name: "silent",
            domains: ["dns.ok.test"],
            challenge: {
              type: "dns-01",
              provider: "rfc2136",
              server: bind.server,
              tsig: { name: bind.keys.sha256.name, secret: bind.keys.sha256.secret },
              propagation: { nameservers: [`127.0.0.1:${deadPort}`] }
            }
          }
        ]
      })
      const prepare = (folder: string) => {
        // a webroot where .well-known is a file: nothing can be written under it
        fs.mkdirSync(path.join(folder, "broken-webroot"))
        fs.writeFileSync(path.join(folder, "broken-webroot", ".well-known"), "")
        // a writable webroot that no web server serves
        fs.mkdirSync(path.join(folder, "webroot"))
        // a private key readable by everyone, in a folder open to everyone
        const live = path.join(folder, "storage", "archive", "web", "1")
        fs.mkdirSync(live, { recursive: true })
        fs.chmodSync(live, 0o755)
        fs.writeFileSync(path.join(live, "privkey.pem"), "not a key\n", { mode: 0o644 })
        fs.chmodSync(path.join(live, "privkey.pem"), 0o644)
      }
      const args = ["--resolver", bind.server, "--http01-port", String(port)]
      let leftInWebroot: Array<string> = []
      const result = yield* doctor(config, [...args, "--json"], prepare, (folder) => {
        leftInWebroot = fs.readdirSync(path.join(folder, "webroot"))
      })
      expect(result.code).toBe(1)
      // the test token and the folders made for it were removed
      expect(leftInWebroot).toEqual([])
      const report = decodeReport(result.stdout)
      expect(report.ok).toBe(false)
      const failed = (check: string, subject: string) => find(report, check, subject).filter((c) => c.status === "fail")

      expect(failed("eab", pebble.directoryUrl)[0]?.fix).toContain("eab: { kid, hmacKey }")
      expect(failed("dns", "missing.test")[0]).toMatchObject({
        message: "missing.test has no A or AAAA record: the CA cannot reach it for http-01",
        fix: "add an A (or AAAA) record for missing.test pointing at this server"
      })
      expect(failed("caa", "forbidden.test")[0]).toMatchObject({
        message: "CAA at forbidden.test allows only other-ca.example (issue), not ZeroSSL (sectigo.com, zerossl.com)",
        fix: "add `forbidden.test. CAA 0 issue \"sectigo.com\"` to the zone"
      })
      // no CAA anywhere above missing.test: every CA may
      expect(find(report, "caa", "missing.test")[0]?.status).toBe("ok")
      expect(failed("http-01", "nowhere")[0]?.message).toMatch(/cannot write .*broken-webroot\/\.well-known/)
      expect(failed("http-01", "nowhere")[0]?.fix).toContain("broken-webroot")
      expect(find(report, "http-01", "forbidden").map((c) => c.status)).toEqual(["ok", "fail"])
      expect(failed("http-01", "forbidden")[0]?.message).toMatch(/the test token did not come back from http:\/\/forbidden\.test:\d+\//)
      const badkey = report.checks.filter((c) => c.certificate === "badkey" && c.check === "dns-01")
      expect(badkey).toHaveLength(1)
      expect(badkey[0]).toMatchObject({ status: "fail", fix: expect.stringContaining("credentials") })
      const silent = report.checks.filter((c) => c.certificate === "silent" && c.check === "dns-01")
      expect(silent.map((c) => c.status)).toEqual(["ok", "fail"])
      expect(silent[1]?.message).toContain(`127.0.0.1:${deadPort} do not answer`)
      const storage = report.checks.filter((c) => c.check === "storage" && c.status === "fail")
      expect(storage.map((c) => c.fix).sort()).toEqual([
        expect.stringMatching(/^chmod 600 .*archive\/web\/1\/privkey\.pem$/),
        expect.stringMatching(/^chmod 700 .*archive\/web\/1$/)
      ])
      expect(result.stderr).not.toContain("internal error")
    }))

  it.effect("the same failures for people: FAIL lines with the fix on the same line", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const bind = yield* Bind.Bind
      const config = () => ({
        ca: { directory: pebble.directoryUrl, preset: "letsencrypt", trust: [pebble.caBundle] },
        storage: { path: "./storage" },
        certificates: [{ name: "caa", domains: ["forbidden.test"], challenge: { type: "dns-01", provider: "challtestsrv", url: pebble.challtestsrvUrl } }]
      })
      const result = yield* doctor(config, ["--resolver", bind.server])
      expect(result.code).toBe(1)
      expect(result.stdout).toContain(
        "FAIL  caa          caa forbidden.test: CAA at forbidden.test allows only other-ca.example (issue), not Let's Encrypt (letsencrypt.org); fix: add `forbidden.test. CAA 0 issue \"letsencrypt.org\"` to the zone"
      )
      expect(result.stderrLines.at(-1)).toBe("acme: 1 of 9 checks failed; each says how to fix it")
    }))

  it.effect("http-01 on a port something else listens on: FAIL with what to do, exit 1; the port free again: ok, exit 0", () =>
    Effect.gen(function*() {
      const bind = yield* Bind.Bind
      const pebble = yield* Pebble.Pebble
      const port = yield* freePort()
      const config = () => ({
        ca: { directory: pebble.directoryUrl, preset: "letsencrypt", trust: [pebble.caBundle] },
        storage: { path: "./storage" },
        certificates: [{ name: "web", domains: ["www.ok.test"], challenge: { type: "http-01", port, address: "127.0.0.1" } }]
      })
      const args = ["--resolver", bind.server, "--http01-port", String(port), "--json"]

      const taken = reportOf(yield* holdingPort(port, doctor(config, args)))
      expect(taken.ok).toBe(false)
      // that check alone failed, and nothing was fetched through a port acme does not answer on
      expect(notPassed(taken)).toEqual([["http-01", `port ${port}`]])
      expect(find(taken, "http-01", "web")).toEqual([expect.objectContaining({
        status: "fail",
        certificate: "web",
        message: `port ${port} on 127.0.0.1 is in use`,
        fix: `stop what listens on port ${port}, or use challenge.webroot to answer through the web server there`
      })])

      const free = reportOf(yield* doctor(config, args))
      expect(free.ok).toBe(true)
      expect(find(free, "http-01", "web").map((c) => [c.subject, c.status])).toEqual([
        [`port ${port}`, "ok"],
        ["www.ok.test", "ok"]
      ])
    }))

  it.effect("a file where the storage should be: FAIL with the fix (root cannot write there either), exit 1; a folder: ok", () =>
    Effect.gen(function*() {
      const bind = yield* Bind.Bind
      const pebble = yield* Pebble.Pebble
      const port = yield* freePort()
      const config = () => ({
        ca: { directory: pebble.directoryUrl, preset: "letsencrypt", trust: [pebble.caBundle] },
        storage: { path: "./data/storage" },
        certificates: [{ name: "web", domains: ["www.ok.test"], challenge: { type: "http-01", port, address: "127.0.0.1" } }]
      })
      const args = ["--resolver", bind.server, "--http01-port", String(port), "--json"]

      // data is a regular file: nothing can be made under it, whoever runs acme (chmod does not stop root)
      let folder = ""
      const blocked = reportOf(yield* doctor(config, args, (at) => {
        folder = at
        fs.writeFileSync(path.join(at, "data"), "not a folder\n")
      }))
      expect(blocked.ok).toBe(false)
      const data = path.join(folder, "data")
      expect(notPassed(blocked)).toEqual([["storage", path.join(data, "storage")], ["account", "default"]])
      expect(blocked.checks.find((c) => c.check === "account")).toMatchObject({
        message: expect.stringContaining("cannot read the stored account: "),
        fix: "check the storage"
      })
      expect(blocked.checks.find((c) => c.check === "storage")).toMatchObject({
        status: "fail",
        message: `${data} is a file: the storage cannot be made under it`,
        fix: `set storage.path to a folder (or move ${data} out of the way)`
      })
      // the storage path itself a file
      const itself = reportOf(yield* doctor(
        () => ({ ...config(), storage: { path: "./data" } }),
        args,
        (at) => fs.writeFileSync(path.join(at, "data"), "not a folder\n")
      ))
      // the stored account cannot be read there either
      expect(notPassed(itself).map(([check]) => check)).toEqual(["storage", "account"])
      expect(itself.checks.find((c) => c.check === "storage")?.message).toMatch(/\/data is a file: the storage cannot be there$/)

      // data a folder: the storage can be made there (the probe file is removed again)
      let left: Array<string> = []
      const fine = reportOf(yield* doctor(
        config,
        args,
        (at) => fs.mkdirSync(path.join(at, "data")),
        (at) => (left = fs.readdirSync(path.join(at, "data")))
      ))
      expect(fine.ok).toBe(true)
      expect(fine.checks.find((c) => c.check === "storage")).toMatchObject({
        status: "ok",
        message: expect.stringMatching(/^does not exist yet; .*\/data is writable, so `acme renew` can create it$/)
      })
      expect(left).toEqual([])
    }))

  it.scoped("the CA's checks: unreachable, a clock 5 minutes off and a deactivated account each FAIL; a valid account and EAB credentials pass", () =>
    Effect.gen(function*() {
      const bind = yield* Bind.Bind
      const pebble = yield* Pebble.Pebble
      const proxy = yield* FaultProxy.FaultProxy
      // Pebble behind the proxy; http-01 on Pebble's validation port, so that acme renew issues through it too
      const config = () => ({
        ca: { directory: proxy.directoryUrl, preset: "letsencrypt", trust: [proxy.caBundle] },
        account: { email: "doctor@example.test" },
        storage: { path: "./storage" },
        certificates: [{
          name: "web",
          domains: ["www.ok.test"],
          challenge: { type: "http-01", port: pebble.httpPort, address: "127.0.0.1" }
        }]
      })
      const args = ["--resolver", bind.server, "--http01-port", String(pebble.httpPort), "--json"]
      const folder = yield* Effect.acquireRelease(Effect.sync(() => temporaryFolder("acme-doctor-")), (f) => Effect.sync(f.remove))
      fs.writeFileSync(path.join(folder.path, "acme.yaml"), JSON.stringify(config()))
      const run = (command: ReadonlyArray<string>) => Effect.promise(() => acme(command, { cwd: folder.path }))
      const account = (report: Doctor.Report) => report.checks.find((c) => c.check === "account")
      const clock = (report: Doctor.Report) => report.checks.find((c) => c.check === "clock")

      // no account yet: fine; then acme renew makes one, and it is valid
      expect(account(reportOf(yield* run(["doctor", ...args])))).toMatchObject({ status: "ok", message: expect.stringContaining("no account") })
      const renewed = yield* run(["renew"])
      expect(renewed.code, renewed.stderr).toBe(0)
      const valid = reportOf(yield* run(["doctor", ...args]))
      expect(valid.ok).toBe(true)
      expect(account(valid)).toMatchObject({ status: "ok", message: "account \"default\" is valid" })
      expect(clock(valid)).toMatchObject({ status: "ok", message: expect.stringMatching(/^within \d+ s of the CA's clock$/) })

      // the CA's Date header 5 minutes ahead of this machine
      const directoryPath = new URL(proxy.directoryUrl).pathname
      yield* proxy.inject({
        method: "GET",
        path: directoryPath,
        times: 1,
        fault: FaultProxy.editHeaders((headers) => ({ ...headers, date: new Date(Date.now() + 5 * 60_000).toUTCString() }))
      })
      const skewed = reportOf(yield* run(["doctor", ...args]))
      yield* proxy.clear
      expect(notPassed(skewed)).toEqual([["clock", proxy.directoryUrl]])
      expect(clock(skewed)).toMatchObject({
        status: "fail",
        message: expect.stringMatching(/^this machine's clock is (29\d|30\d) s behind the CA's$/),
        fix: "synchronise the clock (timedatectl set-ntp true, or chrony/ntpd)"
      })

      // the account deactivated
      const deactivated = yield* run(["account", "deactivate", "--yes"])
      expect(deactivated.code, deactivated.stderr).toBe(0)
      const dead = reportOf(yield* run(["doctor", ...args]))
      expect(notPassed(dead).map(([check]) => check)).toEqual(["account"])
      expect(account(dead)).toMatchObject({
        status: "fail",
        message: "account \"default\" is deactivated at the CA",
        fix: "set account.name to a new name; the next `acme renew` creates that account"
      })

      // a CA that does not answer: FAIL, and the checks that need its answer are skipped, not passed
      const deadPort = yield* freePort()
      const unreachable = reportOf(yield* doctor(
        () => ({ ...config(), ca: { directory: `https://127.0.0.1:${deadPort}/dir`, trust: [proxy.caBundle] } }),
        args
      ))
      expect(unreachable.checks.filter((c) => c.subject === `https://127.0.0.1:${deadPort}/dir`).map((c) => [c.check, c.status]))
        .toEqual([["ca", "fail"], ["clock", "skip"], ["eab", "skip"]])
      expect(unreachable.checks.find((c) => c.check === "ca")?.fix).toBe("check ca.directory, the network and ca.trust")
      expect(account(unreachable)).toMatchObject({ status: "skip", message: "the CA did not answer" })

      // a preset that requires EAB, with credentials: ok (without them, see the test above: FAIL)
      const eab = reportOf(yield* doctor(
        () => ({
          ...config(),
          ca: {
            directory: pebble.directoryUrl,
            preset: "zerossl",
            trust: [pebble.caBundle],
            eab: { kid: "kid-1", hmacKey: Buffer.alloc(32, 1).toString("base64url") }
          }
        }),
        args
      ))
      expect(eab.checks.find((c) => c.check === "eab")).toMatchObject({
        status: "ok",
        message: "ZeroSSL requires External Account Binding; credentials are configured"
      })
    }))

  it.effect("a configuration error or an unknown --only name: exit code 2, nothing checked", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const unknown = yield* doctor(() => ({
        ca: { directory: pebble.directoryUrl, trust: [pebble.caBundle] },
        storage: { path: "./storage" },
        certificates: [{ name: "web", domains: ["www.ok.test"], challenge: { type: "http-01" } }]
      }), ["--only", "nope"])
      expect(unknown.code).toBe(2)
      expect(unknown.stderr).toContain("--only nope: no such certificate")
      const invalid = yield* doctor(() => ({ ca: { directory: pebble.directoryUrl }, storage: { path: "./s" }, certificates: "x" }), [])
      expect(invalid.code).toBe(2)
      expect(invalid.stdout).toBe("")
    }))
})
