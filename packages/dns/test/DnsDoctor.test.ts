/**
 * `DnsDoctor` against pebble-challtestsrv's DNS server: the CAA records it serves (set through its
 * `/add-caa` management call) as `Doctor.Lookups` reads them, and the dns-01 probe through the
 * challtestsrv provider (one that works, one whose API does not answer).
 */
import { Challtestsrv, DnsDoctor, DnsResolver } from "@acme/dns"
import { Doctor, RenewalConfig } from "@acme/sdk"
import { Pebble, PebbleHttpClient } from "@acme/testing"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"

const services = PebbleHttpClient.layer.pipe(Layer.provideMerge(Pebble.layer()))

const post = (url: string, body: unknown) =>
  Effect.promise(async () => {
    const response = await fetch(url, { method: "POST", body: JSON.stringify(body) })
    expect(response.status).toBe(200)
  })

const certificate = (url: string) =>
  Schema.decodeUnknownSync(RenewalConfig.CertificateSpec)({
    name: "probe",
    domains: ["probe.example.test"],
    challenge: { type: "dns-01", provider: "challtestsrv", url }
  })

layer(services, { excludeTestServices: true, timeout: 30_000 })("DnsDoctor against challtestsrv", (it) => {
  it.effect("CAA records as challtestsrv serves them, none at other names; addresses", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const lookups = DnsDoctor.makeLookups({ servers: [`127.0.0.1:${pebble.dnsPort}`] })
      yield* post(`${pebble.challtestsrvUrl}/add-caa`, {
        host: "caa.example.test.",
        policies: [{ tag: "issue", value: "letsencrypt.org" }, { tag: "issuewild", value: ";" }]
      })
      expect(yield* lookups.caa("caa.example.test")).toEqual([
        { critical: false, tag: "issue", value: "letsencrypt.org" },
        { critical: false, tag: "issuewild", value: ";" }
      ])
      expect(yield* lookups.caa("other.example.test")).toEqual([])
      const decision = Doctor.evaluateCaa({
        certificate: "x",
        name: "*.caa.example.test",
        at: "caa.example.test",
        records: yield* lookups.caa("caa.example.test"),
        ca: { title: "Let's Encrypt", identities: ["letsencrypt.org"] },
        challenge: "dns-01"
      })
      expect(decision.status).toBe("fail")
      yield* post(`${pebble.challtestsrvUrl}/clear-caa`, { host: "caa.example.test." })
      expect(yield* lookups.caa("caa.example.test")).toEqual([])
      // challtestsrv answers every A query with 127.0.0.1 (the harness sets no default IPv6)
      expect(yield* lookups.addresses("any.example.test")).toEqual(["127.0.0.1"])
    }))

  it.effect("the dns-01 probe: a provider that works adds and removes its test record; one that does not answer fails", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const working = yield* Challtestsrv.make({ url: pebble.challtestsrvUrl })
      const dead = yield* Challtestsrv.make({ url: "http://127.0.0.1:1" })
      const probe = (provider: typeof working) =>
        DnsDoctor.makeDns01Probe(() => Effect.succeed({ provider })).pipe(
          Effect.flatMap((service) => service.check({ certificate: certificate(pebble.challtestsrvUrl), name: "probe.example.test" })),
          Effect.provide(DnsResolver.layer({ servers: [`127.0.0.1:${pebble.dnsPort}`] }))
        )
      const ok = yield* probe(working)
      expect(ok.map((f) => [f.status, f.message])).toEqual([
        ["ok", "the DNS provider challtestsrv added and removed a test TXT record at _acme-challenge.probe.example.test"],
        ["skip", "propagation.check is false: the zone's name servers are not asked"]
      ])
      // removed again
      const resolver = DnsResolver.make()
      expect(yield* resolver.txt("_acme-challenge.probe.example.test", `127.0.0.1:${pebble.dnsPort}`)).toEqual([])
      const failed = yield* probe(dead)
      expect(failed).toMatchObject([{
        check: "dns-01",
        certificate: "probe",
        subject: "probe.example.test",
        status: "fail",
        message: expect.stringContaining("the DNS provider challtestsrv could not add a test TXT record at _acme-challenge.probe.example.test"),
        fix: "check the provider's credentials and that they may change TXT records of _acme-challenge.probe.example.test"
      }])
    }))
})
