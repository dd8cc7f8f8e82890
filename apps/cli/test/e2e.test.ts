/**
 * The built `acme` binary against a real Pebble that validates every challenge for real: our own
 * http-01 and tls-alpn-01 servers on the ports Pebble validates on, dns-01 through challtestsrv.
 */
import { Pebble } from "@acme/testing"
import { expect, layer } from "@effect/vitest"
import { Accounts, Reporter, Status, Storage } from "@acme/sdk"
import { Context, Effect, Layer, Schema } from "effect"
import * as Crypto from "node:crypto"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { acme as run, type Options, temporaryFolder } from "./support/cli.js"

interface Fixture {
  readonly folder: string
  readonly storage: string
  readonly config: string
}

class Files extends Context.Tag("test/Files")<Files, Fixture>() {}

const configFor = (pebble: Pebble.Service, storage: string, trust: string) => ({
  ca: { directory: pebble.directoryUrl, trust: [trust] },
  account: { email: "ops@example.com" },
  storage: { path: storage },
  renewal: { maxAttempts: 2, maxWait: "5 seconds" },
  certificates: [
    {
      name: "web",
      domains: ["web.e2e.example.test", "www.e2e.example.test"],
      challenge: { type: "http-01", port: pebble.httpPort, address: "127.0.0.1" }
    },
    {
      name: "alpn",
      domains: ["alpn.e2e.example.test"],
      key: "rsa-2048",
      challenge: { type: "tls-alpn-01", port: pebble.tlsPort, address: "127.0.0.1" }
    },
    {
      name: "dns",
      domains: ["*.e2e.example.test"],
      key: "ec-p384",
      challenge: { type: "dns-01", provider: "challtestsrv", url: pebble.challtestsrvUrl }
    }
  ]
})

const FilesLive = Layer.scoped(
  Files,
  Effect.gen(function*() {
    const pebble = yield* Pebble.Pebble
    const folder = yield* Effect.acquireRelease(Effect.sync(() => temporaryFolder()), (f) => Effect.sync(f.remove))
    fs.writeFileSync(path.join(folder.path, "pebble-ca.pem"), pebble.caBundle)
    // YAML is a superset of JSON: the file is JSON, with relative paths
    fs.writeFileSync(path.join(folder.path, "acme.yaml"), JSON.stringify(configFor(pebble, "./storage", "./pebble-ca.pem"), null, 2))
    return { folder: folder.path, storage: path.join(folder.path, "storage"), config: path.join(folder.path, "acme.yaml") }
  })
)

const acme = (args: ReadonlyArray<string>, options: Options = {}) => Effect.promise(() => run(args, options))

/** acme <args> --json in the fixture's folder (so ./acme.yaml is found), the JSON parsed */
const acmeJson = (args: ReadonlyArray<string>, options: Options = {}) =>
  Effect.gen(function*() {
    const { folder } = yield* Files
    const result = yield* acme([...args, "--json"], { cwd: folder, ...options })
    const document: unknown = result.stdout.length > 0 ? JSON.parse(result.stdout) : undefined
    return { ...result, document }
  })

/** the --json report of renew and revoke: decoded with the SDK's own schema, so its shape is checked too */
const reportOf = (document: unknown): Reporter.RunReport => Schema.decodeUnknownSync(Reporter.RunReport)(document)

const byName = (report: Reporter.RunReport) => Object.fromEntries(report.certificates.map((c) => [c.name, c]))

const metadataSerial = (storage: string, name: string): string =>
  Schema.decodeUnknownSync(Schema.parseJson(Storage.CertificateMetadata))(
    fs.readFileSync(path.join(storage, "live", name, "metadata.json"), "utf8")
  ).serialNumber

// the --json shapes are the SDK's own schemas
const StatusReport = Status.Report
const AccountSummary = Accounts.Summary

const freePort = () =>
  Effect.async<number>((resume) => {
    const server = net.createServer()
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resume(Effect.succeed(port)))
    })
  })

const serials: Record<string, string> = {}

layer(FilesLive.pipe(Layer.provideMerge(Pebble.layer({ challengeServers: "external" }))), {
  excludeTestServices: true,
  timeout: 60_000
})("acme against Pebble", (it) => {
  it.effect("first run: three certificates, one by each challenge type, validated for real", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const { storage } = yield* Files
      const result = yield* acmeJson(["renew"])
      expect(result.code).toBe(0)
      const report = reportOf(result.document)
      expect(report.command).toBe("renew")
      expect(report.certificates.map((c) => [c.name, c.action])).toEqual([
        ["web", "renewed"],
        ["alpn", "renewed"],
        ["dns", "renewed"]
      ])
      for (const certificate of report.certificates) {
        const live = path.join(storage, "live", certificate.name)
        expect(certificate.paths).toEqual({
          cert: path.join(live, "cert.pem"),
          chain: path.join(live, "chain.pem"),
          fullchain: path.join(live, "fullchain.pem"),
          privkey: path.join(live, "privkey.pem")
        })
        for (const file of ["cert.pem", "chain.pem", "fullchain.pem", "privkey.pem"]) {
          expect(fs.readFileSync(path.join(live, file), "utf8")).toMatch(/^-----BEGIN /)
        }
        expect(fs.statSync(path.join(live, "privkey.pem")).mode & 0o777).toBe(0o600)
        const serial = certificate.serial ?? ""
        expect(metadataSerial(storage, certificate.name)).toBe(serial)
        expect((yield* pebble.certificateStatus(serial)).status).toBe("Valid")
        serials[certificate.name] = serial
      }
      // progress on stderr, as timestamped lines (stderr is a pipe here)
      expect(result.stderr).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ web: stage order started$/m)
      expect(result.stderr).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ dns: renewed: /m)
    }))

  it.effect("second run: nothing is due, nothing changes; the summary for people says why", () =>
    Effect.gen(function*() {
      const { folder, storage } = yield* Files
      const result = yield* acme(["renew"], { cwd: folder })
      expect(result.code).toBe(0)
      const lines = result.stdout.trimEnd().split("\n")
      expect(lines).toHaveLength(4)
      for (const [index, name] of ["web", "alpn", "dns"].entries()) {
        expect(lines[index]).toMatch(new RegExp(`^skipped +${name} +.*serial ${serials[name]}; expires `))
        expect(metadataSerial(storage, name)).toBe(serials[name])
      }
      expect(lines[3]).toBe("0 renewed, 3 skipped, 0 failed")
    }))

  it.effect("renew --force --only web: a new certificate for web only", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const { storage } = yield* Files
      const result = yield* acmeJson(["renew", "--force", "--only", "web"])
      expect(result.code).toBe(0)
      const report = byName(reportOf(result.document))
      expect(report["web"]?.action).toBe("renewed")
      expect(report["alpn"]).toMatchObject({ action: "skipped", reason: "not selected (--only)" })
      expect(report["dns"]).toMatchObject({ action: "skipped", reason: "not selected (--only)" })
      const renewed = report["web"]?.serial ?? ""
      expect(renewed).not.toBe(serials["web"])
      expect(metadataSerial(storage, "web")).toBe(renewed)
      expect(metadataSerial(storage, "alpn")).toBe(serials["alpn"])
      expect(metadataSerial(storage, "dns")).toBe(serials["dns"])
      expect((yield* pebble.certificateStatus(renewed)).status).toBe("Valid")
      serials["web"] = renewed
    }))

  it.effect("renew --only with a name that is not configured: exit code 2", () =>
    Effect.gen(function*() {
      const result = yield* acmeJson(["renew", "--only", "nope"])
      expect(result.code).toBe(2)
      expect(result.stderrLines).toEqual([
        "acme: --only nope: no such certificate in acme.yaml; the configured names are web, alpn, dns"
      ])
    }))

  it.effect("revoke --name web --reason keyCompromise: Pebble says revoked, reason 1", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const result = yield* acmeJson(["revoke", "--name", "web", "--reason", "keyCompromise"])
      expect(result.code).toBe(0)
      const report = reportOf(result.document)
      expect(report.command).toBe("revoke")
      expect(report.certificates).toMatchObject([{ name: "web", action: "revoked", serial: serials["web"] }])
      const status = yield* pebble.certificateStatus(serials["web"] ?? "")
      expect(status.status).toBe("Revoked")
      expect(status.reason).toBe(1)
    }))

  it.effect("status --json: days left, the next action and why", () =>
    Effect.gen(function*() {
      const result = yield* acmeJson(["status"])
      expect(result.code).toBe(0)
      expect(result.document).toMatchObject({ caReachable: true })
      const { certificates } = Schema.decodeUnknownSync(StatusReport)(result.document)
      const web = certificates.find((c) => c.name === "web")
      expect(web).toMatchObject({ serial: serials["web"], next: { action: "renew now" } })
      expect(web?.revokedAt).toMatch(/^\d{4}-/)
      for (const name of ["alpn", "dns"]) {
        const certificate = certificates.find((c) => c.name === name)
        expect(certificate?.serial).toBe(serials[name])
        expect(certificate?.daysLeft).toBeGreaterThan(30)
        expect(certificate?.notAfter).toMatch(/^\d{4}-/)
        expect(certificate?.next.action).toBe("renew later")
        expect(certificate?.next.reason.length).toBeGreaterThan(0)
      expect(certificate?.next.at).toMatch(/^\d{4}-/)
      }
    }))

  it.effect("renew --dry-run: would renew the revoked one, changes nothing", () =>
    Effect.gen(function*() {
      const { storage } = yield* Files
      const result = yield* acmeJson(["renew", "--dry-run"])
      expect(result.code).toBe(0)
      const report = reportOf(result.document)
      expect(report.dryRun).toBe(true)
      expect(byName(report)["web"]?.action).toBe("skipped")
      expect(byName(report)["web"]?.reason).toMatch(/^dry run; would renew: /)
      expect(metadataSerial(storage, "web")).toBe(serials["web"])
    }))

  it.effect("renew after the revocation replaces the revoked certificate", () =>
    Effect.gen(function*() {
      const result = yield* acmeJson(["renew"])
      expect(result.code).toBe(0)
      const report = byName(reportOf(result.document))
      expect(report["web"]?.action).toBe("renewed")
      expect(report["web"]?.serial).not.toBe(serials["web"])
      expect(report["alpn"]?.action).toBe("skipped")
      expect(report["dns"]?.action).toBe("skipped")
    }))

  it.effect("account show, update-contact, rollover", () =>
    Effect.gen(function*() {
      const shown = yield* acmeJson(["account", "show"])
      expect(shown.code).toBe(0)
      expect(shown.document).toMatchObject({
        url: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+\/my-account\//),
        status: "valid",
        contact: ["mailto:ops@example.com"],
        algorithm: "ES256"
      })
      const { dnsAccountLabel, keyThumbprint, url } = Schema.decodeUnknownSync(AccountSummary)(shown.document)
      // the account's dns-account-01 label: base32 of the first 10 bytes of SHA-256(account URL), lower case
      const digest = Crypto.createHash("sha256").update(url).digest().subarray(0, 10)
      let bits = ""
      for (const byte of digest) bits += byte.toString(2).padStart(8, "0")
      const expected = (bits.match(/.{5}/g) ?? []).map((five) => "abcdefghijklmnopqrstuvwxyz234567"[parseInt(five, 2)]).join("")
      expect(dnsAccountLabel).toBe(expected)
      const text = yield* acme(["account", "show"], { cwd: (yield* Files).folder })
      expect(text.stdout).toContain(`dns-account-01 records at _${expected}._acme-challenge.<name>`)

      const updated = yield* acmeJson(["account", "update-contact", "--email", "certs@example.com"])
      expect(updated.code).toBe(0)
      expect(updated.document).toMatchObject({ url, contact: ["mailto:certs@example.com"] })

      const rolled = yield* acmeJson(["account", "rollover", "--key", "ES384"])
      expect(rolled.code).toBe(0)
      expect(rolled.document).toMatchObject({ url, algorithm: "ES384" })
      expect(rolled.document).not.toMatchObject({ keyThumbprint })

      const again = yield* acmeJson(["account", "show"])
      expect(again.document).toMatchObject({ url, algorithm: "ES384", status: "valid" })
    }))

  it.effect("a certificate that fails validation: exit code 1, reported as failed, one line on stderr", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const { folder } = yield* Files
      // our server listens on another port than the one Pebble validates on
      const port = yield* freePort()
      const config = {
        ...configFor(pebble, "./failing-storage", pebble.caBundle),
        renewal: { maxAttempts: 1 },
        certificates: [{ name: "broken", domains: ["broken.e2e.example.test"], challenge: { type: "http-01", port, address: "127.0.0.1" } }]
      }
      fs.writeFileSync(path.join(folder, "failing.json"), JSON.stringify(config))
      const result = yield* acmeJson(["renew", "--config", "failing.json"])
      expect(result.code).toBe(1)
      expect(reportOf(result.document).certificates).toMatchObject([{ name: "broken", action: "failed" }])
      expect(result.stderrLines.at(-1)).toMatch(/^acme: 1 of 1 certificate failed \(broken\)/)
    }))

  it.effect("storage that cannot be written: exit code 1, one line", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const { folder } = yield* Files
      fs.writeFileSync(path.join(folder, "a-file"), "not a folder\n")
      fs.writeFileSync(path.join(folder, "unwritable.json"), JSON.stringify(configFor(pebble, "./a-file/storage", "./pebble-ca.pem")))
      const result = yield* acmeJson(["renew", "--config", "unwritable.json"])
      expect(result.code).toBe(1)
      expect(result.stderrLines.at(-1)).toMatch(/^acme: /)
      expect(result.stderrLines.at(-1)).toContain("a-file")
      expect(result.document).toMatchObject({ error: { exitCode: 1 } })
    }))

  it.effect("ACME_TEST_CRASH_AT kills the run at that point; the next run resumes it and finishes", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const { folder } = yield* Files
      const config = {
        ...configFor(pebble, "./crash-storage", "./pebble-ca.pem"),
        certificates: [{ name: "crash", domains: ["crash.e2e.example.test"], challenge: { type: "dns-01", provider: "challtestsrv", url: pebble.challtestsrvUrl } }]
      }
      fs.writeFileSync(path.join(folder, "crash.json"), JSON.stringify(config))
      const crashed = yield* acmeJson(["renew", "--config", "crash.json"], { env: { ACME_TEST_CRASH_AT: "after:finalize" } })
      expect(crashed.signal).toBe("SIGKILL")
      expect(crashed.stdout).toBe("")

      const resumed = yield* acmeJson(["renew", "--config", "crash.json"])
      expect(resumed.code).toBe(0)
      expect(resumed.stderr).toMatch(/resuming run \S+, which was interrupted/)
      const report = reportOf(resumed.document)
      expect(report.resumed).toBe(true)
      expect(report.certificates).toMatchObject([{ name: "crash", action: "renewed" }])
      expect((yield* pebble.certificateStatus(report.certificates[0]?.serial ?? "")).status).toBe("Valid")
    }))
})
