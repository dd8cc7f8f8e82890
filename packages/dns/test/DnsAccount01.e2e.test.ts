/**
 * End to end: dns-account-01 (draft-ietf-acme-dns-account-label) against Pebble 2.6, the Pebble
 * that offers it (Debian trixie's, fetched by scripts/fetch-pebble-ari.sh; Debian bookworm's 2.4
 * does not know the challenge). The certificates are for names whose `_acme-challenge` record
 * belongs to someone else (a TXT of another team, a CNAME delegated elsewhere): they are issued
 * through the account's own record name, and the other records are never touched.
 *
 * Pebble 2.6 implements the draft's predecessor, draft-ietf-acme-scoped-dns-challenges-01:
 * `_<label>._acme-host-challenge.<name>` (`_acme-wildcard-challenge` for a wildcard), so the
 * certificates here say `draft: scoped-dns-challenges`; the current form,
 * `_<label>._acme-challenge.<name>`, is checked against BIND through the same responder.
 */
import { createHash } from "node:crypto"
import { X509Certificate } from "node:crypto"
import * as Dns from "node:dns"
import { Challtestsrv, Dns01, DnsResolver, Rfc2136 } from "@acme/dns"
import {
  AcmeProtocol,
  Certificate,
  CertificateName,
  ChallengeResponse,
  ChallengeSolver,
  Identifier,
  Planner,
  Renewal,
  RenewalConfig,
  RenewalSettings,
  RenewalState,
  Reporter,
  Storage
} from "@acme/sdk"
import { Bind, Pebble, PebbleHttpClient, Requirement } from "@acme/testing"
import { describe, expect, it, layer } from "@effect/vitest"
import { Effect, Layer, Option, Redacted, Schema } from "effect"

const ariBinary = Option.getOrUndefined(await Effect.runPromise(Pebble.ariPebbleBinary))
// skipped on a developer's machine without it; under CI=true a missing Pebble 2.6 fails the run
const requirement = Requirement.decide({
  what: "Pebble 2.6 (it offers dns-account-01)",
  missing: ariBinary === undefined ? "run scripts/fetch-pebble-ari.sh or set PEBBLE_ARI_BIN" : undefined
})

if (requirement._tag === "Fail") {
  it("Pebble 2.6 is there", () => {
    expect.fail(Requirement.message(requirement))
  })
}

const resolverAt = (server: string) => {
  const resolver = new Dns.promises.Resolver({ timeout: 1000, tries: 1 })
  resolver.setServers([server])
  return resolver
}
const txtAt = (server: string, name: string) =>
  Effect.promise(() =>
    resolverAt(server).resolveTxt(name).then((records) => records.map((chunks) => chunks.join("")).sort(), () => [])
  )
const cnameAt = (server: string, name: string) =>
  Effect.promise(() => resolverAt(server).resolveCname(name).then((names) => names, () => []))

/** the account label computed here by hand (the draft's formula), independent of the SDK's */
const labelOf = (accountUrl: string) => {
  const bits = [...createHash("sha256").update(accountUrl).digest().subarray(0, 10)]
    .map((byte) => byte.toString(2).padStart(8, "0"))
    .join("")
  return (bits.match(/.{5}/g) ?? []).map((chunk) => "abcdefghijklmnopqrstuvwxyz234567"[parseInt(chunk, 2)]).join("")
}

const someoneElses = "the-dns-team-uses-this-for-their-own-dns-01"
/** an account of another system, delegating its own dns-account-01 name to another zone */
const otherAccount = "https://ca.test/acme/acct/other-system"

const zones: ReadonlyArray<Bind.Zone> = [{
  name: "example.test",
  updatable: true,
  records: [
    `_acme-challenge.owned TXT "${someoneElses}"`,
    "_acme-challenge.delegated CNAME _acme-challenge.delegated.elsewhere.test.",
    `_${labelOf(otherAccount)}._acme-challenge.alias CNAME per-account.example.test.`
  ]
}]

const certificateConfig = (pebble: Pebble.Service, certificate: { readonly domains: ReadonlyArray<string> }) =>
  Schema.decodeUnknownSync(RenewalConfig.RenewalConfig)({
    ca: { directory: pebble.directoryUrl },
    account: { email: "ops@example.test" },
    storage: { path: "memory" },
    renewal: { maxAttempts: 1 },
    certificates: [{
      name: "shared",
      domains: certificate.domains,
      // the responder below is given its provider directly; the section names the type and the draft
      challenge: { type: "dns-account-01", provider: "rfc2136", draft: "scoped-dns-challenges" }
    }]
  })

/** the pipeline over Pebble; dns-account-01 answered by `provider` through the dns-01 responder */
const pipelineWith = <R, R2>(
  provider: Effect.Effect<Dns01.Setup, never, R>,
  dnsServer: Effect.Effect<string, never, R2>
) =>
  Layer.unwrapEffect(
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const setup = yield* provider
      const solver = ChallengeSolver.layer.pipe(
        Layer.provide(Dns01.layer(() => Effect.succeed(setup))),
        Layer.provide(DnsResolver.layer({ servers: [yield* dnsServer] }))
      )
      return Layer.mergeAll(
        AcmeProtocol.layer({ directoryUrl: pebble.directoryUrl, pollInterval: "50 millis" }),
        solver,
        Planner.layer(),
        Reporter.layer,
        Storage.layerMemory
      )
    })
  ).pipe(Layer.provideMerge(PebbleHttpClient.layer))

const renewShared = (domains: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const pebble = yield* Pebble.Pebble
    const storage = yield* Storage.Storage
    const config = certificateConfig(pebble, { domains })
    const report = yield* Renewal.renew().pipe(
      Effect.provideService(RenewalSettings.RenewalSettings, { config, eab: Option.none() })
    )
    const result = report.certificates[0]
    expect(result?.action, result?.error?.message).toBe("renewed")
    const stored = Option.getOrThrow(yield* storage.loadCertificate(CertificateName.make("shared")))
    const leaf = (yield* Certificate.parseChain(stored.fullchainPem)).certificates[0]
    expect(new X509Certificate(leaf?.pem ?? "").subjectAltName?.split(", ").sort()).toEqual(
      domains.map((name) => `DNS:${name}`).sort()
    )
    expect((yield* pebble.certificateStatus(result?.serial ?? "")).status).toBe("Valid")
    // every authorization was answered with dns-account-01 (the run's last checkpoint says which)
    const checkpoints = yield* storage.loadCheckpoints
    const state = Option.getOrThrow(RenewalState.decode(checkpoints.at(-1)?.json ?? ""))
    const authorizations = state.buckets[0]?.order?.authorizations ?? []
    const row = (name: string, wildcard: boolean, type: string | undefined) => `${wildcard ? "*." : ""}${name} ${type}`
    expect(authorizations.map((a) => row(a.identifier.value, a.wildcard ?? false, a.challengeType)).sort()).toEqual(
      domains.map((name) => `${name} dns-account-01`).sort()
    )
    const account = Option.getOrThrow(Option.flatMap(yield* storage.loadAccount(pebble.directoryUrl, "default"), (a) => a.info))
    const label = yield* ChallengeResponse.dnsAccountLabel(account.url)
    expect(label).toBe(labelOf(account.url))
    return { label }
  })

describe.skipIf(requirement._tag !== "Run")(
  `dns-account-01 against Pebble 2.6${Requirement.note(requirement)}`,
  () => {
    const bindCa = Layer.unwrapEffect(
      Effect.map(Bind.Bind, (bind) => Pebble.layer({ dnsServer: bind.server, pebbleBin: ariBinary }))
    ).pipe(Layer.provideMerge(Bind.layer({ zones })))
    const rfc2136 = Effect.gen(function*() {
      const bind = yield* Bind.Bind
      const provider = yield* Rfc2136.make({
        server: bind.server,
        tsig: { ...bind.keys.sha256, secret: Redacted.make(bind.keys.sha256.secret) }
      })
      return { provider, propagation: { nameservers: [bind.server], interval: "100 millis" } } satisfies Dns01.Setup
    }).pipe(Effect.orDie)
    const viaBind = pipelineWith(rfc2136, Effect.map(Bind.Bind, (bind) => bind.server)).pipe(
      Layer.provideMerge(bindCa)
    )

    layer(viaBind, { excludeTestServices: true, timeout: 60_000 })("Pebble 2.6 -> BIND, RFC 2136", (it) => {
      it.effect("issues names whose _acme-challenge belongs to someone else, through the account's own records", () =>
        Effect.gen(function*() {
          const bind = yield* Bind.Bind
          const domains = ["owned.example.test", "*.owned.example.test", "delegated.example.test"]
          const { label } = yield* renewShared(domains)
          const log = yield* bind.recentOutput
          const updates = (name: string) => ({
            added: log.filter((l) => l.includes(`adding an RR at '${name}' TXT`)).length,
            deleted: log.filter((l) => l.includes(`deleting an RR at ${name} TXT`)).length
          })
          // one record per authorization, at the account's names of the draft Pebble 2.6 follows
          expect(updates(`_${label}._acme-host-challenge.owned.example.test`)).toEqual({ added: 1, deleted: 1 })
          expect(updates(`_${label}._acme-wildcard-challenge.owned.example.test`)).toEqual({ added: 1, deleted: 1 })
          expect(updates(`_${label}._acme-host-challenge.delegated.example.test`)).toEqual({ added: 1, deleted: 1 })
          // nothing was written at _acme-challenge, and what is there is as it was
          expect(log.filter((l) => /at '?_acme-challenge\./.test(l))).toEqual([])
          expect(yield* txtAt(bind.server, "_acme-challenge.owned.example.test")).toEqual([someoneElses])
          expect(yield* cnameAt(bind.server, "_acme-challenge.delegated.example.test")).toEqual([
            "_acme-challenge.delegated.elsewhere.test"
          ])
          expect(yield* txtAt(bind.server, `_${label}._acme-host-challenge.owned.example.test`)).toEqual([])
        }))

      it.effect("the current draft's name, _<label>._acme-challenge.<name>, through the same responder, follows the account's own CNAME", () =>
        Effect.gen(function*() {
          const bind = yield* Bind.Bind
          const setup = yield* rfc2136
          const responder = yield* Dns01.make(() => Effect.succeed(setup)).pipe(
            Effect.provide(DnsResolver.layer({ servers: [bind.server] }))
          )
          const task = (identifier: string, accountUrl: string): ChallengeSolver.ChallengeTask => ({
            certificate: "current",
            identifier: Identifier.dns(identifier),
            type: "dns-account-01",
            token: "tok",
            keyAuthorization: "tok.thumb",
            config: { type: "dns-account-01", provider: "rfc2136" },
            accountUrl
          })
          const value = yield* ChallengeResponse.dns01TxtValue("tok.thumb")
          const mine = "https://ca.test/acme/acct/mine"
          // beside someone else's TXT at _acme-challenge.owned
          const owned = task("owned.example.test", mine)
          yield* responder.present(owned)
          expect(yield* txtAt(bind.server, `_${labelOf(mine)}._acme-challenge.owned.example.test`)).toEqual([value])
          expect(yield* txtAt(bind.server, "_acme-challenge.owned.example.test")).toEqual([someoneElses])
          yield* responder.cleanup(owned)
          expect(yield* txtAt(bind.server, `_${labelOf(mine)}._acme-challenge.owned.example.test`)).toEqual([])
          expect(yield* txtAt(bind.server, "_acme-challenge.owned.example.test")).toEqual([someoneElses])
          // another account's name is delegated by a CNAME of its own: followed to where it points
          const alias = task("alias.example.test", otherAccount)
          yield* responder.present(alias)
          expect(yield* txtAt(bind.server, "per-account.example.test")).toEqual([value])
          yield* responder.cleanup(alias)
          expect(yield* txtAt(bind.server, "per-account.example.test")).toEqual([])
          expect(yield* cnameAt(bind.server, `_${labelOf(otherAccount)}._acme-challenge.alias.example.test`)).toEqual([
            "per-account.example.test"
          ])
        }))
    })

    const challtestsrvCa = Pebble.layer({ pebbleBin: ariBinary })
    const challtestsrv = Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const provider = yield* Challtestsrv.make({ url: pebble.challtestsrvUrl })
      return { provider } satisfies Dns01.Setup
    })
    const viaChalltestsrv = pipelineWith(
      challtestsrv,
      Effect.map(Pebble.Pebble, (pebble) => `127.0.0.1:${pebble.dnsPort}`)
    ).pipe(Layer.provideMerge(challtestsrvCa))

    layer(viaChalltestsrv, { excludeTestServices: true, timeout: 60_000 })("Pebble 2.6 -> challtestsrv", (it) => {
      it.effect("issues a name (and its wildcard) whose _acme-challenge TXT is someone else's, and leaves it", () =>
        Effect.gen(function*() {
          const pebble = yield* Pebble.Pebble
          const server = `127.0.0.1:${pebble.dnsPort}`
          yield* pebble.setTxt("_acme-challenge.shared.example.test", someoneElses).pipe(Effect.orDie)
          const { label } = yield* renewShared(["shared.example.test", "*.shared.example.test"])
          expect(yield* txtAt(server, "_acme-challenge.shared.example.test")).toEqual([someoneElses])
          expect(yield* txtAt(server, `_${label}._acme-host-challenge.shared.example.test`)).toEqual([])
          expect(yield* txtAt(server, `_${label}._acme-wildcard-challenge.shared.example.test`)).toEqual([])
        }))
    })
  }
)
