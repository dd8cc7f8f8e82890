/**
 * The built `acme` binary when things go wrong: a CA that rejects half of all nonces, a CA that
 * cannot be reached, a port that is taken; and proof that private keys never leave their files.
 */
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { Pebble } from "@acme/testing"
import { Reporter } from "@acme/sdk"
import { expect, layer } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { acme, type Result, snapshot, temporaryFolder } from "./support/cli.js"

const reportOf = (result: Result): Reporter.RunReport =>
  Schema.decodeUnknownSync(Schema.parseJson(Reporter.RunReport))(result.stdout)

const writeConfig = (folder: string, pebble: Pebble.Service, certificates: ReadonlyArray<unknown>, extra: object = {}) => {
  fs.writeFileSync(path.join(folder, "ca.pem"), pebble.caBundle)
  fs.writeFileSync(
    path.join(folder, "acme.yaml"),
    JSON.stringify({
      ca: { directory: pebble.directoryUrl, trust: ["./ca.pem"] },
      account: { email: "failures@example.test" },
      storage: { path: "./storage" },
      certificates,
      ...extra
    })
  )
}

const listen = (port = 0) =>
  new Promise<net.Server>((resolve) => {
    const server = net.createServer()
    server.listen(port, "127.0.0.1", () => resolve(server))
  })

const portOf = (server: net.Server) => {
  const address = server.address()
  return typeof address === "object" && address !== null ? address.port : 0
}

layer(Pebble.layer({ challengeServers: "external", nonceRejectPercent: 50 }), { excludeTestServices: true, timeout: 90_000 })(
  "a CA that rejects half of all nonces",
  (it) => {
    it.effect("acme renew still issues every certificate, and status, revoke and a re-run work", () =>
      Effect.gen(function*() {
        const pebble = yield* Pebble.Pebble
        const folder = temporaryFolder("acme-nonce-")
        try {
          writeConfig(folder.path, pebble, [
            { name: "one", domains: ["one.nonce.example.test"], challenge: { type: "http-01", port: pebble.httpPort, address: "127.0.0.1" } },
            { name: "two", domains: ["two.nonce.example.test"], challenge: { type: "dns-01", provider: "challtestsrv", url: pebble.challtestsrvUrl } },
            { name: "three", domains: ["three.nonce.example.test"], challenge: { type: "tls-alpn-01", port: pebble.tlsPort, address: "127.0.0.1" } }
          ])
          const first = yield* Effect.promise(() => acme(["renew", "--json"], { cwd: folder.path }))
          expect(first.code, first.stderr).toBe(0)
          const report = reportOf(first)
          expect(report.certificates.map((c) => c.action)).toEqual(["renewed", "renewed", "renewed"])
          for (const certificate of report.certificates) {
            expect((yield* pebble.certificateStatus(certificate.serial ?? "")).status).toBe("Valid")
          }
          const revoked = yield* Effect.promise(() => acme(["revoke", "--name", "two", "--json"], { cwd: folder.path }))
          expect(revoked.code, revoked.stderr).toBe(0)
          expect((yield* pebble.certificateStatus(report.certificates[1]?.serial ?? "")).status).toBe("Revoked")
          const again = yield* Effect.promise(() => acme(["renew", "--json"], { cwd: folder.path }))
          expect(again.code, again.stderr).toBe(0)
          expect(reportOf(again).certificates.map((c) => c.action)).toEqual(["skipped", "renewed", "skipped"])
        } finally {
          folder.remove()
        }
      }))
  }
)

layer(Pebble.layer({ challengeServers: "external" }), { excludeTestServices: true, timeout: 90_000 })(
  "failures and secrets",
  (it) => {
    it.effect("an unreachable CA is retried by the scheduler, then reported failed with exit 1; files untouched", () =>
      Effect.gen(function*() {
        const pebble = yield* Pebble.Pebble
        const folder = temporaryFolder("acme-offline-")
        try {
          const certificates = [
            { name: "site", domains: ["site.offline.example.test"], challenge: { type: "http-01", port: pebble.httpPort, address: "127.0.0.1" } }
          ]
          writeConfig(folder.path, pebble, certificates)
          expect((yield* Effect.promise(() => acme(["renew"], { cwd: folder.path }))).code).toBe(0)
          const before = snapshot(path.join(folder.path, "storage", "archive"))
          const fullchain = fs.readFileSync(path.join(folder.path, "storage", "live", "site", "fullchain.pem"), "utf8")

          // the same storage, now pointed at a CA that does not answer
          const closed = yield* Effect.promise(() => listen())
          const deadPort = portOf(closed)
          yield* Effect.promise(() => new Promise((resolve) => closed.close(resolve)))
          writeConfig(folder.path, { ...pebble, directoryUrl: `https://127.0.0.1:${deadPort}/dir` }, certificates, {
            renewal: { maxAttempts: 3 }
          })
          const result = yield* Effect.promise(() => acme(["renew", "--force", "--json"], { cwd: folder.path }))
          expect(result.code).toBe(1)
          const report = reportOf(result)
          expect(report.certificates[0]?.action).toBe("failed")
          expect(report.certificates[0]?.attempts).toBe(3)
          expect(report.certificates[0]?.reason).toContain("cannot reach the CA")
          expect(report.certificates[0]?.reason).toContain("gave up after 3 attempts")
          // the scheduler waited between the attempts (1 s, then 2 s, with jitter)
          expect(result.stderr).toMatch(/attempt 2 of 3 in [\d.]+ ?s/)
          expect(result.stderr).toMatch(/attempt 3 of 3 in [\d.]+ ?s/)
          // nothing that existed changed
          expect(snapshot(path.join(folder.path, "storage", "archive"))).toEqual(before)
          expect(fs.readFileSync(path.join(folder.path, "storage", "live", "site", "fullchain.pem"), "utf8")).toBe(fullchain)
        } finally {
          folder.remove()
        }
      }))

    it.effect("a port that is taken: exit 1, with a reason that names the port and what to do", () =>
      Effect.gen(function*() {
        const pebble = yield* Pebble.Pebble
        const folder = temporaryFolder("acme-port-")
        const taken = yield* Effect.promise(() => listen())
        try {
          writeConfig(folder.path, pebble, [
            { name: "busy", domains: ["busy.example.test"], challenge: { type: "http-01", port: portOf(taken), address: "127.0.0.1" } }
          ])
          const result = yield* Effect.promise(() => acme(["renew"], { cwd: folder.path }))
          expect(result.code).toBe(1)
          expect(result.stdout).toMatch(/failed\s+busy/)
          expect(result.stdout).toContain(`port ${portOf(taken)} on 127.0.0.1 is in use; stop what listens there`)
          expect(fs.existsSync(path.join(folder.path, "storage", "live", "busy"))).toBe(false)
        } finally {
          taken.close()
          folder.remove()
        }
      }))

    it.effect("account and certificate keys never appear in a checkpoint, a log line or --json output", () =>
      Effect.gen(function*() {
        const pebble = yield* Pebble.Pebble
        const folder = temporaryFolder("acme-secrets-")
        try {
          writeConfig(folder.path, pebble, [
            { name: "secret", domains: ["secret.example.test"], challenge: { type: "dns-01", provider: "challtestsrv", url: pebble.challtestsrvUrl } }
          ])
          const outputs: Array<string> = []
          for (const args of [["renew", "--json", "--verbose"], ["renew", "--force", "--verbose"], ["status", "--json"], ["account", "show", "--json"], ["account", "rollover", "--json", "--verbose"], ["revoke", "--name", "secret", "--json", "--verbose"]]) {
            const result = yield* Effect.promise(() => acme(args, { cwd: folder.path }))
            expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(0)
            outputs.push(result.stdout, result.stderr)
          }
          const storage = path.join(folder.path, "storage")
          const keyFiles = [
            ...fs.readdirSync(path.join(storage, "archive", "secret")).map((v) => path.join(storage, "archive", "secret", v, "privkey.pem")),
            ...fs.readdirSync(path.join(storage, "accounts"), { recursive: true, encoding: "utf8" })
              .filter((f) => f.endsWith(".key"))
              .map((f) => path.join(storage, "accounts", f))
          ]
          // two certificate keys and the account key (the rollover's staged key is removed once it is recorded)
          expect(keyFiles.length).toBeGreaterThanOrEqual(3)
          const secrets = keyFiles.flatMap((file) =>
            fs.readFileSync(file, "utf8").split("\n").filter((line) => line.length >= 40 && !line.startsWith("-----"))
          )
          const checkpoints = fs.readdirSync(path.join(storage, "runs")).map((f) => fs.readFileSync(path.join(storage, "runs", f), "utf8"))
          expect(checkpoints.length).toBeGreaterThanOrEqual(2)
          const everything = [...outputs, ...checkpoints].join("\n")
          expect(everything).toContain("secret.example.test")
          for (const secret of secrets) expect(everything).not.toContain(secret)
          expect(everything).not.toMatch(/PRIVATE KEY/)
        } finally {
          folder.remove()
        }
      }))
  }
)

