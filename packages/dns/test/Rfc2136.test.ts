import { Dns01, DnsResolver, Rfc2136 } from "@acme/dns"
import { ChallengeResponse, Identifier, Plugin } from "@acme/sdk"
import { Bind } from "@acme/testing"
import { expect, layer } from "@effect/vitest"
import { Effect, Either, Redacted } from "effect"
import * as Dns from "node:dns"
import { makeContext, platform } from "./support/context.js"

const txtAt = (server: string, name: string) =>
  Effect.promise(() => {
    const resolver = new Dns.promises.Resolver({ timeout: 1000, tries: 1 })
    resolver.setServers([server])
    return resolver.resolveTxt(name).then((records) => records.map((chunks) => chunks.join("")).sort(), () => [])
  })

const zones: ReadonlyArray<Bind.Zone> = [
  {
    name: "example.test",
    updatable: true,
    records: ["_acme-challenge.alias IN CNAME _acme-challenge.target.delegated.test."]
  },
  { name: "delegated.test", updatable: true },
  { name: "locked.test", updatable: false }
]

const providerFor = (bind: Bind.Service, options: Partial<Rfc2136.Config> = {}) =>
  Rfc2136.make({
    server: bind.server,
    tsig: { ...bind.keys.sha256, secret: Redacted.make(bind.keys.sha256.secret) },
    ...options
  })

layer(Bind.layer({ zones }), { excludeTestServices: true })("RFC 2136 against BIND", (it) => {
  it.effect("adds and removes exactly one TXT value (hmac-sha256, zone found by SOA, UDP)", () =>
    Effect.gen(function*() {
      const bind = yield* Bind.Bind
      const provider = yield* providerFor(bind)
      const name = "_acme-challenge.www.example.test"
      yield* provider.present({ name, value: "first" })
      yield* provider.present({ name, value: "second" })
      expect(yield* txtAt(bind.server, name)).toEqual(["first", "second"])
      yield* provider.cleanup({ name, value: "first" })
      expect(yield* txtAt(bind.server, name)).toEqual(["second"])
      yield* provider.cleanup({ name, value: "second" })
      expect(yield* txtAt(bind.server, name)).toEqual([])
      expect((yield* bind.recentOutput).some((line) => /key acme-test-sha256: updating zone 'example.test\/IN'/.test(line)))
        .toBe(true)
    }))

  it.effect("hmac-sha512 over TCP with the zone given", () =>
    Effect.gen(function*() {
      const bind = yield* Bind.Bind
      const provider = yield* Rfc2136.make({
        server: bind.server,
        zone: "example.test.",
        tsig: { ...bind.keys.sha512, secret: Redacted.make(bind.keys.sha512.secret) },
        transport: "tcp"
      })
      yield* provider.present({ name: "_acme-challenge.tcp.example.test", value: "over-tcp" })
      expect(yield* txtAt(bind.server, "_acme-challenge.tcp.example.test")).toEqual(["over-tcp"])
      yield* provider.cleanup({ name: "_acme-challenge.tcp.example.test", value: "over-tcp" })
      expect(yield* txtAt(bind.server, "_acme-challenge.tcp.example.test")).toEqual([])
    }))

  it.effect("a zone the key may not update: Refused, naming the key and the zone, saying how to allow it", () =>
    Effect.gen(function*() {
      const bind = yield* Bind.Bind
      const provider = yield* providerFor(bind)
      const error = yield* Effect.flip(provider.present({ name: "_acme-challenge.locked.test", value: "v" }))
      expect(error._tag).toBe("DnsProviderError")
      expect(error.reason).toBe("Refused")
      expect(error.message).toBe(
        `DNS provider rfc2136: the TSIG key acme-test-sha256 may not update zone locked.test: ${bind.server} ` +
          "answered REFUSED; allow it with update-policy/allow-update in named.conf"
      )
      expect(yield* txtAt(bind.server, "_acme-challenge.locked.test")).toEqual([])
    }))

  it.effect("a wrong secret: BIND answers NOTAUTH (BADSIG), and the error says to check the key", () =>
    Effect.gen(function*() {
      const bind = yield* Bind.Bind
      const wrong = Buffer.alloc(32, 7).toString("base64")
      const provider = yield* providerFor(bind, {
        tsig: { ...bind.keys.sha256, secret: Redacted.make(wrong) }
      })
      const error = yield* Effect.flip(provider.present({ name: "_acme-challenge.www.example.test", value: "v" }))
      expect(error.reason).toBe("Unauthorized")
      expect(error.message).toBe(
        `DNS provider rfc2136: the TSIG key acme-test-sha256 may not update zone example.test: ${bind.server} ` +
          "answered NOTAUTH (BADSIG); check that the key's name, algorithm and secret match named.conf"
      )
      expect(error.message).not.toContain(wrong)
    }))

  it.effect("an unknown key name is BADKEY; a name outside the server's zones has no SOA there", () =>
    Effect.gen(function*() {
      const bind = yield* Bind.Bind
      const unknown = yield* providerFor(bind, {
        tsig: { name: "nobody.", algorithm: "hmac-sha256", secret: Redacted.make(bind.keys.sha256.secret) }
      })
      const badKey = yield* Effect.flip(unknown.present({ name: "_acme-challenge.www.example.test", value: "v" }))
      expect(badKey.message).toContain("answered NOTAUTH (BADKEY)")
      const provider = yield* providerFor(bind)
      const outside = yield* Effect.flip(provider.present({ name: "_acme-challenge.example.org", value: "v" }))
      expect(outside.reason).toBe("Refused")
      expect(outside.message).toBe(
        `DNS provider rfc2136: ${bind.server} answered REFUSED without an SOA for _acme-challenge.example.org: it is ` +
          "not authoritative for it; set zone (and server) to the zone's primary"
      )
    }))

  it.effect("bad options: a secret that is not base64, or a server that is not host:port", () =>
    Effect.gen(function*() {
      const bind = yield* Bind.Bind
      const notBase64 = yield* Effect.flip(providerFor(bind, {
        tsig: { ...bind.keys.sha256, secret: Redacted.make("not base64!") }
      }))
      expect(notBase64.message).toBe(
        "DNS provider rfc2136: the secret of TSIG key acme-test-sha256. is not base64; copy it from named.conf"
      )
      const options = Plugin.configurable(Rfc2136.plugin).configure({
        server: "ns1:99999",
        tsig: { name: "k", secret: "x" }
      })
      expect(Either.isLeft(options) && options.left.message).toContain(
        "\"ns1:99999\" is not a DNS server; write host, host:port or [IPv6]:port"
      )
    }))

  it.effect("the plugin reads the secret from { env: NAME }", () =>
    Effect.gen(function*() {
      const bind = yield* Bind.Bind
      const build = Either.getOrThrow(Plugin.configurable(Rfc2136.plugin).configure({
        server: bind.server,
        tsig: { name: bind.keys.sha512.name, algorithm: "hmac-sha512", secret: { env: "TSIG_SECRET" } }
      }))
      const provider = yield* build(makeContext({ TSIG_SECRET: bind.keys.sha512.secret }))
      yield* provider.present({ name: "_acme-challenge.env.example.test", value: "from-env" })
      expect(yield* txtAt(bind.server, "_acme-challenge.env.example.test")).toEqual(["from-env"])
    }).pipe(Effect.scoped, Effect.provide(platform)))

  it.effect("the dns-01 responder follows the _acme-challenge CNAME into another zone and waits for BIND to serve it", () =>
    Effect.gen(function*() {
      const bind = yield* Bind.Bind
      const provider = yield* providerFor(bind)
      const responder = yield* Dns01.make(() =>
        Effect.succeed({ provider, propagation: { nameservers: [bind.server], interval: "100 millis" } })
      ).pipe(Effect.provide(DnsResolver.layer({ servers: [bind.server] })))
      const task = {
        certificate: "alias",
        identifier: Identifier.dns("alias.example.test"),
        type: "dns-01" as const,
        token: "tok",
        keyAuthorization: "tok.thumb",
        config: { type: "dns-01" as const, provider: "challtestsrv" as const, url: "http://127.0.0.1:1" }
      }
      yield* responder.present(task)
      const value = yield* ChallengeResponse.dns01TxtValue("tok.thumb")
      expect(yield* txtAt(bind.server, "_acme-challenge.target.delegated.test")).toEqual([value])
      // the original name was not touched: it is still only the CNAME
      expect(yield* txtAt(bind.server, "_acme-challenge.alias.example.test")).toEqual([])
      yield* responder.cleanup(task)
      expect(yield* txtAt(bind.server, "_acme-challenge.target.delegated.test")).toEqual([])
    }))
})
