import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { Identifier } from "@acme/sdk"

describe("Identifier.parse", () => {
  it.effect("normalises DNS names and IP addresses", () =>
    Effect.gen(function*() {
      expect(yield* Identifier.parse("WWW.Example.ORG.")).toEqual({ type: "dns", value: "www.example.org" })
      expect(yield* Identifier.parse("*.example.org")).toEqual({ type: "dns", value: "*.example.org" })
      expect(yield* Identifier.parse("192.0.2.1")).toEqual({ type: "ip", value: "192.0.2.1" })
      expect(yield* Identifier.parse("2001:DB8:0:0::1")).toEqual({ type: "ip", value: "2001:db8::1" })
    }))

  it.effect.each(["", "localhost", "../x", "a/b.example", "-a.example.org", "a..example.org", "256.1.1.1", "1.2.3", "ex ample.org", `${"a".repeat(64)}.org`])(
    "refuses %j with InvalidIdentifier",
    (text) =>
      Effect.gen(function*() {
        const exit = yield* Effect.exit(Identifier.parse(text))
        expect(Exit.isFailure(exit)).toBe(true)
        const error = yield* Effect.flip(Identifier.parse(text))
        expect(error._tag).toBe("InvalidIdentifier")
        expect(error.message).toContain("not a valid DNS name or IP address")
      })
  )

  it.effect("parseAll drops duplicates and keeps order", () =>
    Effect.gen(function*() {
      const ids = yield* Identifier.parseAll(["b.example.org", "A.example.org", "b.example.org", "127.0.0.1"])
      expect(ids.map(Identifier.format)).toEqual(["dns:b.example.org", "dns:a.example.org", "ip:127.0.0.1"])
    }))

  it("equals: DNS names in any case, IPv6 however written; never across types", () => {
    expect(Identifier.equals(Identifier.dns("A.Example.org"), Identifier.dns("a.example.org"))).toBe(true)
    expect(Identifier.equals(Identifier.ip("2001:DB8:0:0:0:0:0:1"), Identifier.ip("2001:db8::1"))).toBe(true)
    expect(Identifier.equals(Identifier.ip("192.0.2.1"), Identifier.ip("192.0.2.10"))).toBe(false)
    expect(Identifier.equals(Identifier.dns("192.0.2.1"), Identifier.ip("192.0.2.1"))).toBe(false)
  })

  it("challengeTypesFor: a wildcard only by a DNS record, an IP address never by one", () => {
    expect(Identifier.challengeTypesFor("*.example.org")).toEqual(["dns-01", "dns-account-01"])
    expect(Identifier.challengeTypesFor("192.0.2.1")).toEqual(["http-01", "tls-alpn-01"])
    expect(Identifier.challengeTypesFor("2001:db8::1")).toEqual(["http-01", "tls-alpn-01"])
    expect(Identifier.challengeTypesFor("www.example.org")).toEqual(["http-01", "dns-01", "dns-account-01", "tls-alpn-01"])
  })
})
