/**
 * dns-01 through the configuration file: `acme renew` with `provider: rfc2136` sends TSIG-signed
 * updates to a real BIND, waits until BIND answers with the records, and Pebble (resolving through
 * that BIND) validates them for real: a wildcard certificate, nothing faked between the pieces.
 */
import { X509Certificate } from "node:crypto"
import * as Dns from "node:dns"
import * as fs from "node:fs"
import * as path from "node:path"
import { ChallengeResponse } from "@acme/sdk"
import { Bind, Pebble, Requirement } from "@acme/testing"
import { describe, expect, it, layer } from "@effect/vitest"
import { Effect, Layer, Option, Schema } from "effect"
import { acme, type Options, temporaryFolder } from "./support/cli.js"

const ca = Layer.unwrapEffect(Effect.map(Bind.Bind, (bind) => Pebble.layer({ dnsServer: bind.server }))).pipe(
  Layer.provideMerge(Bind.layer())
)

// dns-account-01 needs Pebble 2.6 (Debian trixie's, fetched by scripts/fetch-pebble-ari.sh, which
// scripts/setup.sh runs): skipped on a developer's machine without it, a failure under CI=true
const ariBinary = Option.getOrUndefined(await Effect.runPromise(Pebble.ariPebbleBinary))
const requirement = Requirement.decide({
  what: "Pebble 2.6 (it offers dns-account-01)",
  missing: ariBinary === undefined ? "run scripts/fetch-pebble-ari.sh or set PEBBLE_ARI_BIN" : undefined
})

if (requirement._tag === "Fail") {
  it("Pebble 2.6 is there", () => {
    expect.fail(Requirement.message(requirement))
  })
}
const someoneElses = "owned-by-the-dns-team"
const ariCa = Layer.unwrapEffect(
  Effect.map(Bind.Bind, (bind) => Pebble.layer({ dnsServer: bind.server, pebbleBin: ariBinary }))
).pipe(
  Layer.provideMerge(Bind.layer({
    zones: [{ name: "example.test", updatable: true, records: [`_acme-challenge TXT "${someoneElses}"`] }]
  }))
)

const renew = (certificate: Record<string, unknown>, options: Options = {}) =>
  Effect.gen(function*() {
    const pebble = yield* Pebble.Pebble
    return yield* Effect.acquireUseRelease(
      Effect.sync(() => temporaryFolder("acme-dns-")),
      (folder) =>
        Effect.promise(async () => {
          fs.writeFileSync(
            path.join(folder.path, "acme.yaml"),
            JSON.stringify({
              ca: { directory: pebble.directoryUrl, trust: [pebble.caBundle] },
              storage: { path: "./storage" },
              renewal: { maxAttempts: 1 },
              certificates: [{ name: "wild", ...certificate }]
            })
          )
          const result = await acme(["renew", "--json"], { cwd: folder.path, ...options })
          const live = path.join(folder.path, "storage", "live", "wild", "cert.pem")
          const accounts = path.join(folder.path, "storage", "accounts")
          // accounts/<ca host>/<account name>/account.json
          const accountJson = (fs.existsSync(accounts) ? fs.readdirSync(accounts) : [])
            .flatMap((host) => fs.readdirSync(path.join(accounts, host)).map((name) => path.join(accounts, host, name)))
            .map((folder) => path.join(folder, "account.json"))
            .find((file) => fs.existsSync(file))
          return {
            ...result,
            certificate: fs.existsSync(live) ? new X509Certificate(fs.readFileSync(live)) : undefined,
            accountUrl: accountJson === undefined ? undefined : String(JSON.parse(fs.readFileSync(accountJson, "utf8")).url)
          }
        }),
      (folder) => Effect.sync(folder.remove)
    )
  })

const Report = Schema.parseJson(Schema.Struct({
  certificates: Schema.Array(Schema.Struct({
    action: Schema.String,
    error: Schema.optional(Schema.Struct({ type: Schema.String, message: Schema.String }))
  }))
}))

layer(ca, { excludeTestServices: true, timeout: 60_000 })("dns-01 with rfc2136 from the configuration file", (it) => {
  it.effect("a wildcard certificate through TSIG-signed updates to BIND and Pebble's validation through BIND", () =>
    Effect.gen(function*() {
      const bind = yield* Bind.Bind
      const secret = bind.keys.sha512.secret
      const result = yield* renew({
        domains: ["example.test", "*.example.test"],
        challenge: {
          type: "dns-01",
          provider: "rfc2136",
          server: bind.server,
          zone: "example.test",
          tsig: { name: bind.keys.sha512.name, algorithm: "hmac-sha512", secret: { env: "ACME_TEST_TSIG_SECRET" } },
          propagation: { nameservers: [bind.server], interval: "200 millis", timeout: "20 seconds" }
        }
      }, { env: { ACME_TEST_TSIG_SECRET: secret } })
      expect(result.code).toBe(0)
      expect(result.certificate?.subjectAltName?.split(", ").sort()).toEqual(["DNS:*.example.test", "DNS:example.test"])
      expect(result.stdout + result.stderr).not.toContain(secret)
      // the records were removed afterwards
      const log = (yield* bind.recentOutput).join("\n")
      expect(log).toMatch(/delet/i)
    }))

  it.effect("a zone the TSIG key may not update: the certificate fails with a message that says how to fix it", () =>
    Effect.gen(function*() {
      const bind = yield* Bind.Bind
      const result = yield* renew({
        domains: ["www.locked.test"],
        challenge: {
          type: "dns-01",
          provider: "rfc2136",
          server: bind.server,
          tsig: { name: bind.keys.sha256.name, secret: bind.keys.sha256.secret },
          propagation: { nameservers: [bind.server], timeout: "5 seconds" }
        }
      })
      expect(result.code).toBe(1)
      const report = Schema.decodeUnknownSync(Report)(result.stdout)
      expect(report.certificates[0]?.action).toBe("failed")
      expect(report.certificates[0]?.error?.message).toMatch(/may not update zone locked\.test.*update-policy/)
      expect(result.certificate).toBeUndefined()
    }))
})

describe.skipIf(requirement._tag !== "Run")(`dns-account-01 against Pebble 2.6${Requirement.note(requirement)}`, () => {
  layer(ariCa, { excludeTestServices: true, timeout: 60_000 })("dns-account-01 with rfc2136 from the configuration file", (it) => {
    it.effect("a certificate for a zone whose _acme-challenge belongs to someone else, through the account's own records", () =>
      Effect.gen(function*() {
        const bind = yield* Bind.Bind
        const result = yield* renew({
          domains: ["example.test", "*.example.test"],
          challenge: {
            type: "dns-account-01",
            // Pebble 2.6 follows the draft's predecessor for the record name
            draft: "scoped-dns-challenges",
            provider: "rfc2136",
            server: bind.server,
            tsig: { name: bind.keys.sha256.name, secret: bind.keys.sha256.secret },
            propagation: { nameservers: [bind.server], interval: "200 millis", timeout: "20 seconds" }
          }
        })
        expect(result.code, result.stderr).toBe(0)
        expect(result.certificate?.subjectAltName?.split(", ").sort()).toEqual(["DNS:*.example.test", "DNS:example.test"])
        const label = yield* ChallengeResponse.dnsAccountLabel(result.accountUrl ?? "")
        const log = (yield* bind.recentOutput).join("\n")
        for (const scope of ["host", "wildcard"]) {
          const name = `_${label}._acme-${scope}-challenge.example.test`
          expect(log).toContain(`adding an RR at '${name}' TXT`)
          expect(log).toContain(`deleting an RR at ${name} TXT`)
        }
        expect(log).not.toMatch(/at '?_acme-challenge\.example\.test/)
        const txt = yield* Effect.promise(() => {
          const resolver = new Dns.promises.Resolver({ timeout: 1000, tries: 1 })
          resolver.setServers([bind.server])
          return resolver.resolveTxt("_acme-challenge.example.test")
        })
        expect(txt.map((chunks) => chunks.join(""))).toEqual([someoneElses])
      }))
  })
})
