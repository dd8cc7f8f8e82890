/**
 * End to end: a wildcard certificate (`*.example.test` + `example.test`) issued by Pebble through the
 * renewal pipeline, its dns-01 challenges answered by RFC 2136 updates to BIND, and validated by
 * Pebble resolving through that BIND (`-dnsserver`): nothing is faked between the pieces.
 */
import { X509Certificate } from "node:crypto"
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
  Reporter,
  Storage
} from "@acme/sdk"
import { Bind, Pebble, PebbleHttpClient } from "@acme/testing"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer, Option, Redacted, Schema } from "effect"
import * as Dns from "node:dns"

const txtAt = (server: string, name: string) =>
  Effect.promise(() => {
    const resolver = new Dns.promises.Resolver({ timeout: 1000, tries: 1 })
    resolver.setServers([server])
    return resolver.resolveTxt(name).then((records) => records.map((chunks) => chunks.join("")).sort(), () => [])
  })

/** Pebble resolving through BIND, and BIND itself */
const ca = Layer.unwrapEffect(
  Effect.map(Bind.Bind, (bind) => Pebble.layer({ dnsServer: bind.server }))
).pipe(Layer.provideMerge(Bind.layer()))

/** the pipeline's services over that Pebble; dns-01 answered by RFC 2136 updates to BIND */
const pipeline = Layer.unwrapEffect(
  Effect.gen(function*() {
    const bind = yield* Bind.Bind
    const pebble = yield* Pebble.Pebble
    const provider = yield* Rfc2136.make({
      server: bind.server,
      tsig: { ...bind.keys.sha256, secret: Redacted.make(bind.keys.sha256.secret) }
    })
    const solver = ChallengeSolver.layer.pipe(
      Layer.provide(Dns01.layerProvider(provider, { nameservers: [bind.server], interval: "100 millis" })),
      Layer.provide(DnsResolver.layer({ servers: [bind.server] }))
    )
    return Layer.mergeAll(
      AcmeProtocol.layer({ directoryUrl: pebble.directoryUrl, pollInterval: "50 millis" }),
      solver,
      Planner.layer(),
      Reporter.layer,
      Storage.layerMemory
    )
  })
).pipe(Layer.provideMerge(PebbleHttpClient.layer), Layer.provideMerge(ca))

layer(pipeline, { excludeTestServices: true, timeout: 60_000 })("dns-01 end to end: Pebble -> BIND", (it) => {
  it.effect("issues *.example.test + example.test through RFC 2136 updates and Pebble's real validation", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const bind = yield* Bind.Bind
      const storage = yield* Storage.Storage
      // the certificate's challenge section is the lead's to wire; the responder here ignores it
      const config = Schema.decodeUnknownSync(RenewalConfig.RenewalConfig)({
        ca: { directory: pebble.directoryUrl },
        account: { email: "ops@example.test" },
        storage: { path: "memory" },
        certificates: [{
          name: "wild",
          domains: ["*.example.test", "example.test"],
          challenge: { type: "dns-01", provider: "challtestsrv", url: pebble.challtestsrvUrl }
        }]
      })
      const report = yield* Renewal.renew().pipe(
        Effect.provideService(RenewalSettings.RenewalSettings, { config, eab: Option.none() })
      )
      const result = report.certificates[0]
      expect(result?.action, result?.error?.message).toBe("renewed")
      const stored = Option.getOrThrow(yield* storage.loadCertificate(CertificateName.make("wild")))
      const chain = yield* Certificate.parseChain(stored.fullchainPem)
      const leaf = chain.certificates[0]
      expect(leaf?.identifiers.map((i) => i.value).sort()).toEqual(["*.example.test", "example.test"])
      expect(new X509Certificate(leaf?.pem ?? "").subjectAltName?.split(", ").sort()).toEqual([
        "DNS:*.example.test",
        "DNS:example.test"
      ])
      expect((yield* pebble.certificateStatus(result?.serial ?? "")).status).toBe("Valid")
      // both values went through BIND (its log shows the signed updates), and cleanup took both out
      const log = yield* bind.recentOutput
      expect(log.filter((l) => /adding an RR at '_acme-challenge\.example\.test' TXT/.test(l))).toHaveLength(2)
      expect(log.filter((l) => /deleting an RR at _acme-challenge\.example\.test TXT/.test(l))).toHaveLength(2)
      expect(yield* txtAt(bind.server, "_acme-challenge.example.test")).toEqual([])
      // and challtestsrv never had them: Pebble can only have validated through BIND
      expect(yield* txtAt(`127.0.0.1:${pebble.dnsPort}`, "_acme-challenge.example.test")).toEqual([])
    }))

  it.effect("the challtestsrv provider, through the same responder, serves the value on challtestsrv's DNS", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const provider = yield* Challtestsrv.make({ url: pebble.challtestsrvUrl })
      const server = `127.0.0.1:${pebble.dnsPort}`
      const responder = yield* Dns01.make(() =>
        Effect.succeed({ provider, propagation: { nameservers: [server], interval: "100 millis" } })
      ).pipe(Effect.provide(DnsResolver.layer({ servers: [server] })))
      const task: ChallengeSolver.ChallengeTask = {
        certificate: "test",
        identifier: Identifier.dns("*.ctsrv.example.test"),
        type: "dns-01",
        token: "tok",
        keyAuthorization: "tok.thumb",
        config: { type: "dns-01", provider: "challtestsrv", url: pebble.challtestsrvUrl }
      }
      yield* responder.present(task)
      const value = yield* ChallengeResponse.dns01TxtValue("tok.thumb")
      expect(yield* txtAt(server, "_acme-challenge.ctsrv.example.test")).toEqual([value])
      yield* responder.cleanup(task)
      expect(yield* txtAt(server, "_acme-challenge.ctsrv.example.test")).toEqual([])
    }))
})
