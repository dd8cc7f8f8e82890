import { Dns01, DnsResolver } from "@acme/dns"
import { ChallengeResponse, type ChallengeSolver, DnsProvider, Identifier } from "@acme/sdk"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Duration, Effect, Either, Fiber, Layer, Option, Schema, TestClock } from "effect"

/**
 * A fake DNS: the provider writes into `zone`; the authoritative servers see a value only once they
 * have been asked `delay` times since it was written (propagation), or never when `delay` is
 * Infinity. Every TXT query is logged with the server asked.
 */
const fakeDns = (options: {
  readonly delay?: number
  readonly cnames?: Record<string, string>
  readonly apexes?: ReadonlyArray<string>
  readonly ns?: Record<string, ReadonlyArray<string>>
  readonly addresses?: Record<string, ReadonlyArray<string>>
  readonly failPresent?: DnsProvider.DnsProviderError
  /** addresses whose TXT queries time out */
  readonly unreachable?: ReadonlyArray<string>
} = {}) => {
  const zone = new Map<string, Set<string>>()
  const asked = new Map<string, number>()
  const queries: Array<{ name: string; server: string }> = []
  const calls: Array<string> = []
  const provider: DnsProvider.Service = {
    name: "fake",
    present: (record) =>
      options.failPresent !== undefined ? Effect.fail(options.failPresent) : Effect.sync(() => {
        calls.push(`present ${record.name} ${record.value}`)
        zone.set(record.name, new Set([...(zone.get(record.name) ?? []), record.value]))
      }),
    cleanup: (record) =>
      Effect.sync(() => {
        calls.push(`cleanup ${record.name} ${record.value}`)
        zone.get(record.name)?.delete(record.value)
      })
  }
  const resolver: DnsResolver.Service = {
    cname: (name) => Effect.succeed(Option.fromNullable(options.cnames?.[name])),
    isZoneApex: (name) => Effect.succeed((options.apexes ?? ["example.test"]).includes(name)),
    nameservers: (z) => Effect.succeed(options.ns?.[z] ?? ["ns1.example.test", "ns2.example.test"]),
    addresses: (host) =>
      Effect.succeed(
        /^[\d.]+$/.test(host) ? [host] : options.addresses?.[host] ?? { "ns1.example.test": ["192.0.2.1"], "ns2.example.test": ["192.0.2.2"] }[host] ?? []
      ),
    txt: (name, server) =>
      (options.unreachable ?? []).includes(server)
        ? Effect.fail(new DnsResolver.DnsLookupError({ name, type: "TXT", server, description: "ETIMEOUT" }))
        : Effect.sync(() => {
        queries.push({ name, server })
        const seen = (asked.get(server) ?? 0) + 1
        asked.set(server, seen)
        return seen > (options.delay ?? 0) ? [...(zone.get(name) ?? [])] : []
      })
  }
  return { zone, queries, calls, provider, resolverLayer: Layer.succeed(DnsResolver.DnsResolver, resolver) }
}

/** waits (for real, briefly) until the fiber is done or sleeping on the TestClock */
const settle = <A, E>(fiber: Fiber.Fiber<A, E>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 10_000; i++) {
      if (Option.isSome(yield* Fiber.poll(fiber))) return
      if (Chunk.isNonEmpty(yield* TestClock.sleeps())) return
      yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
    }
  })

/**
 * Moves the TestClock forward by `millis` in steps of at most `step`, letting the fiber reach its
 * next sleep before each step: on a busy machine a forked fiber may not have scheduled its sleep yet
 * when the clock moves, and a single big jump would then leave it behind.
 */
const advance = <A, E>(fiber: Fiber.Fiber<A, E>, millis: number, step = 500) =>
  Effect.gen(function*() {
    for (let done = 0; done < millis; done += step) {
      yield* settle(fiber)
      yield* TestClock.adjust(Math.min(step, millis - done))
    }
    yield* settle(fiber)
  })

const task = (identifier: string, token = "token-1"): ChallengeSolver.ChallengeTask => ({
  certificate: "web",
  identifier: Identifier.dns(identifier),
  type: "dns-01",
  token,
  keyAuthorization: `${token}.thumbprint`,
  config: { type: "dns-01", provider: "challtestsrv", url: "http://127.0.0.1:1" }
})

const responderWith = (dns: ReturnType<typeof fakeDns>, propagation?: Dns01.PropagationInput) =>
  Dns01.make(() => Effect.succeed({ provider: dns.provider, propagation })).pipe(Effect.provide(dns.resolverLayer))

describe("Dns01 responder", () => {
  it.effect("waits until every authoritative server (found by SOA + NS) answers the value, polling on the clock", () =>
    Effect.gen(function*() {
      const dns = fakeDns({ delay: 2 })
      const responder = yield* responderWith(dns, { interval: "5 seconds" })
      const fiber = yield* Effect.fork(responder.present(task("www.example.test")))
      // first poll at once; each server has it from its third poll on
      yield* advance(fiber, 9_000)
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      expect(dns.queries).toHaveLength(4) // two servers, polled at 0 s and 5 s
      yield* advance(fiber, 1_000) // 10 s: third poll sees it
      yield* Fiber.join(fiber)
      const value = yield* ChallengeResponse.dns01TxtValue("token-1.thumbprint")
      expect(dns.calls).toEqual([`present _acme-challenge.www.example.test ${value}`])
      expect(dns.queries.map((q) => q.server)).toEqual([
        "192.0.2.1",
        "192.0.2.2",
        "192.0.2.1",
        "192.0.2.2",
        "192.0.2.1",
        "192.0.2.2"
      ])
      expect(new Set(dns.queries.map((q) => q.name))).toEqual(new Set(["_acme-challenge.www.example.test"]))
    }))

  it.effect("never visible: a ChallengeError naming the record and the servers after the timeout", () =>
    Effect.gen(function*() {
      const dns = fakeDns({ delay: Infinity })
      const responder = yield* responderWith(dns, { timeout: "2 minutes", interval: "2 seconds" })
      const fiber = yield* Effect.fork(Effect.flip(responder.present(task("www.example.test"))))
      yield* advance(fiber, 119_000)
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      yield* advance(fiber, 3_000)
      const error = yield* Fiber.join(fiber)
      expect(error._tag).toBe("ChallengeError")
      expect(error.message).toBe(
        "cannot present dns-01 for www.example.test: TXT record _acme-challenge.www.example.test not visible at " +
          "ns1.example.test,ns2.example.test after 2m; check the provider/zone"
      )
      // about one poll every 2 seconds per server, and no more
      expect(dns.queries.length).toBeGreaterThanOrEqual(2 * 60)
      expect(dns.queries.length).toBeLessThanOrEqual(2 * 62)
    }))

  it.effect("a name server counts when one of its addresses has the value (an unreachable IPv6 address does not block)", () =>
    Effect.gen(function*() {
      const dns = fakeDns({
        unreachable: ["2001:db8::1"],
        addresses: { "ns1.example.test": ["2001:db8::1", "192.0.2.1"], "ns2.example.test": ["192.0.2.2"] }
      })
      const responder = yield* responderWith(dns)
      yield* responder.present(task("www.example.test"))
      expect(dns.queries.map((q) => q.server).sort()).toEqual(["192.0.2.1", "192.0.2.2"])
    }))

  it.effect("a server that never answers is named in the timeout error with its last failure", () =>
    Effect.gen(function*() {
      const dns = fakeDns({ unreachable: ["192.0.2.2"] })
      const responder = yield* responderWith(dns, { timeout: "10 seconds", interval: "1 second" })
      const fiber = yield* Effect.fork(Effect.flip(responder.present(task("www.example.test"))))
      yield* advance(fiber, 11_000)
      const error = yield* Fiber.join(fiber)
      expect(error.message).toBe(
        "cannot present dns-01 for www.example.test: TXT record _acme-challenge.www.example.test not visible at " +
          "ns2.example.test after 10s (ns2.example.test: ETIMEOUT); check the provider/zone"
      )
      // ns1 had it at once and was not asked again
      expect(dns.queries.filter((q) => q.server === "192.0.2.1")).toHaveLength(1)
    }))

  it.effect("asks the configured nameservers (host:port) instead of the zone's NS", () =>
    Effect.gen(function*() {
      const dns = fakeDns({ apexes: [], addresses: { "hidden.example.test": ["10.0.0.53"] } })
      const responder = yield* responderWith(dns, { nameservers: ["127.0.0.1:5353", "hidden.example.test"] })
      yield* responder.present(task("www.example.test"))
      expect(dns.queries.map((q) => q.server)).toEqual(["127.0.0.1:5353", "10.0.0.53"])
    }))

  it.effect("without a zone (no SOA up the name) it says to set propagation.nameservers", () =>
    Effect.gen(function*() {
      const dns = fakeDns({ apexes: [] })
      const responder = yield* responderWith(dns)
      const error = yield* Effect.flip(responder.present(task("www.example.test")))
      expect(error.message).toBe(
        "cannot present dns-01 for www.example.test: could not find the zone of _acme-challenge.www.example.test " +
          "(no SOA at it or any parent); set propagation.nameservers"
      )
    }))

  it.effect("follows a CNAME delegation: the record goes to, and is awaited at, the end of the chain", () =>
    Effect.gen(function*() {
      const dns = fakeDns({
        cnames: {
          "_acme-challenge.www.example.test": "hop.example.net",
          "hop.example.net": "abc123.acme.example.org"
        },
        apexes: ["example.org"],
        ns: { "example.org": ["ns.example.org"] },
        addresses: { "ns.example.org": ["192.0.2.9"] }
      })
      const responder = yield* responderWith(dns)
      yield* responder.present(task("www.example.test"))
      const value = yield* ChallengeResponse.dns01TxtValue("token-1.thumbprint")
      expect(dns.calls).toEqual([`present abc123.acme.example.org ${value}`])
      expect(dns.queries).toEqual([{ name: "abc123.acme.example.org", server: "192.0.2.9" }])
      yield* responder.cleanup(task("www.example.test"))
      expect(dns.calls[1]).toBe(`cleanup abc123.acme.example.org ${value}`)
    }))

  it.effect("a CNAME loop is an error, not a hang", () =>
    Effect.gen(function*() {
      const dns = fakeDns({
        cnames: { "_acme-challenge.www.example.test": "a.example.test", "a.example.test": "_acme-challenge.www.example.test" }
      })
      const responder = yield* responderWith(dns)
      const error = yield* Effect.flip(responder.present(task("www.example.test")))
      expect(error.message).toBe(
        "cannot present dns-01 for www.example.test: the CNAME chain loops (_acme-challenge.www.example.test -> " +
          "a.example.test -> _acme-challenge.www.example.test); fix the _acme-challenge CNAME"
      )
      expect(dns.calls).toEqual([])
    }))

  it.effect("a wildcard and its base name share one TXT name; cleanup removes exactly each value", () =>
    Effect.gen(function*() {
      const dns = fakeDns()
      const responder = yield* responderWith(dns)
      const wildcard = task("*.example.test", "token-w")
      const base = task("example.test", "token-b")
      yield* responder.present(wildcard)
      yield* responder.present(base)
      const w = yield* ChallengeResponse.dns01TxtValue("token-w.thumbprint")
      const b = yield* ChallengeResponse.dns01TxtValue("token-b.thumbprint")
      expect([...(dns.zone.get("_acme-challenge.example.test") ?? [])]).toEqual([w, b])
      yield* responder.cleanup(wildcard)
      expect([...(dns.zone.get("_acme-challenge.example.test") ?? [])]).toEqual([b])
      yield* responder.cleanup(base)
      expect([...(dns.zone.get("_acme-challenge.example.test") ?? [])]).toEqual([])
    }))

  it.effect("dns-account-01: the account's own names (both drafts), awaited there; without an account URL it says why", () =>
    Effect.gen(function*() {
      const dns = fakeDns({ cnames: { "_acme-challenge.www.example.test": "elsewhere.other.test" } })
      const responder = yield* responderWith(dns)
      const accountUrl = "https://example.com/acme/acct/ExampleAccount"
      const account = (identifier: string, draft?: "scoped-dns-challenges", wildcard?: boolean) => ({
        ...task(identifier),
        type: "dns-account-01" as const,
        config: { type: "dns-account-01" as const, provider: "fake", ...(draft === undefined ? {} : { draft }) },
        accountUrl,
        wildcard
      })
      const value = yield* ChallengeResponse.dns01TxtValue("token-1.thumbprint")
      // the _acme-challenge CNAME (someone else's delegation) is not followed: it is not our name
      yield* responder.present(account("www.example.test"))
      expect([...(dns.zone.get("_ujmmovf2vn55tgye._acme-challenge.www.example.test") ?? [])]).toEqual([value])
      expect(dns.queries.map((q) => q.name)).toContain("_ujmmovf2vn55tgye._acme-challenge.www.example.test")
      yield* responder.present(account("example.test", "scoped-dns-challenges", true))
      expect([...(dns.zone.get("_ujmmovf2vn55tgye._acme-wildcard-challenge.example.test") ?? [])]).toEqual([value])
      yield* responder.cleanup(account("www.example.test"))
      expect([...(dns.zone.get("_ujmmovf2vn55tgye._acme-challenge.www.example.test") ?? [])]).toEqual([])
      expect([...dns.zone.keys()].filter((name) => name.startsWith("_acme-challenge"))).toEqual([])

      const error = yield* Effect.flip(responder.present({ ...account("www.example.test"), accountUrl: undefined }))
      expect(error).toMatchObject({ _tag: "ChallengeError", reason: "Unsupported", challengeType: "dns-account-01" })
      expect(error.message).toContain("the dns-account-01 record name is derived from it")
    }))

  it.effect("a provider's error becomes a ChallengeError with the provider's words; no wait happens", () =>
    Effect.gen(function*() {
      const dns = fakeDns({
        failPresent: new DnsProvider.DnsProviderError({
          provider: "fake",
          reason: "Unauthorized",
          description: "the token was rejected"
        })
      })
      const responder = yield* responderWith(dns)
      const error = yield* Effect.flip(responder.present(task("www.example.test")))
      expect(error).toMatchObject({ _tag: "ChallengeError", reason: "Provider", identifier: "www.example.test" })
      expect(error.message).toBe("cannot present dns-01 for www.example.test: DNS provider fake: the token was rejected")
      expect(dns.queries).toEqual([])
    }))

  it.effect("check: false answers right after the provider accepted the record", () =>
    Effect.gen(function*() {
      const dns = fakeDns({ delay: Infinity })
      const responder = yield* responderWith(dns, { check: false })
      yield* responder.present(task("www.example.test"))
      expect(dns.calls).toHaveLength(1)
      expect(dns.queries).toEqual([])
    }))

  it("the Propagation options decode with defaults and reject bad name servers", () => {
    expect(Duration.toMillis(Dns01.defaultPropagation.timeout)).toBe(120_000)
    expect(Duration.toMillis(Dns01.defaultPropagation.interval)).toBe(2_000)
    expect(Dns01.defaultPropagation).toMatchObject({ check: true })
    expect(Dns01.defaultPropagation.nameservers).toBeUndefined()
    const decoded = Schema.decodeUnknownSync(Dns01.Propagation)({ nameservers: ["[::1]:5353"], timeout: "5 minutes" })
    expect(decoded.nameservers).toEqual(["[::1]:5353"])
    expect(Duration.toMillis(decoded.timeout)).toBe(300_000)
    const bad = Schema.decodeUnknownEither(Dns01.Propagation)({ nameservers: ["ns1:99999"] })
    expect(Either.isLeft(bad) && bad.left.message).toContain(
      "\"ns1:99999\" is not a name server; write host, host:port or [IPv6]:port"
    )
  })
})
