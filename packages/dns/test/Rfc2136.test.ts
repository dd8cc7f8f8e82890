import { Rfc2136 } from "@acme/dns"
import { Bind } from "@acme/testing"
import { expect, layer } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import * as Dns from "node:dns"

const txtAt = (server: string, name: string) =>
  Effect.promise(() => {
    const resolver = new Dns.promises.Resolver({ timeout: 1000, tries: 1 })
    resolver.setServers([server])
    return resolver.resolveTxt(name).then((records) => records.map((chunks) => chunks.join("")).sort(), () => [])
  })

layer(Bind.layer(), { excludeTestServices: true })("RFC 2136 against BIND", (it) => {
  it.effect("adds and removes exactly one TXT value (sha256, zone found by SOA)", () =>
    Effect.gen(function*() {
      const bind = yield* Bind.Bind
      const provider = yield* Rfc2136.make({
        server: bind.server,
        tsig: { ...bind.keys.sha256, secret: Redacted.make(bind.keys.sha256.secret) }
      })
      const name = "_acme-challenge.www.example.test"
      yield* provider.present({ name, value: "first" })
      yield* provider.present({ name, value: "second" })
      expect(yield* txtAt(bind.server, name)).toEqual(["first", "second"])
      yield* provider.cleanup({ name, value: "first" })
      expect(yield* txtAt(bind.server, name)).toEqual(["second"])
      yield* provider.cleanup({ name, value: "second" })
      expect(yield* txtAt(bind.server, name)).toEqual([])
    }))
})
