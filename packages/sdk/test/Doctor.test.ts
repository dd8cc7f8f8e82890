/**
 * `Doctor.run` against a real Pebble: the clock against Pebble's `Date` header (on a TestClock),
 * EAB against a Pebble that requires it, the stored account (none, valid, deactivated), and the CAA
 * tree climbing and decisions over a table of DNS answers (the DNS itself is tested with BIND and
 * challtestsrv in `@acme/dns` and the CLI).
 */
import { Pebble, PebbleHttpClient } from "@acme/testing"
import { AccountKey, Accounts, AcmeProtocol, Doctor, RenewalConfig, RenewalSettings, Storage } from "@acme/sdk"
import { NodeContext } from "@effect/platform-node"
import { expect, layer } from "@effect/vitest"
import { DateTime, Effect, Layer, Option, Redacted, Schema, TestClock } from "effect"

/** DNS answers by name: addresses, and CAA records (`"fail"`: the lookup fails) */
interface Zone {
  readonly addresses?: ReadonlyArray<string>
  readonly caa?: ReadonlyArray<Doctor.CaaRecord> | "fail"
}

const lookups = (zones: Readonly<Record<string, Zone>>) =>
  Layer.succeed(Doctor.Lookups, {
    addresses: (name) => Effect.succeed(zones[name]?.addresses ?? []),
    caa: (name) => {
      const caa = zones[name]?.caa ?? []
      return caa === "fail"
        ? Effect.fail(new Doctor.LookupError({ name, type: "CAA", description: "ESERVFAIL" }))
        : Effect.succeed(caa)
    }
  })

const services = (options: Pebble.PebbleOptions = {}) =>
  Layer.mergeAll(
    Layer.unwrapEffect(Effect.map(Pebble.Pebble, (pebble) => AcmeProtocol.layer({ directoryUrl: pebble.directoryUrl }))),
    Storage.layerMemory,
    NodeContext.layer
  ).pipe(Layer.provideMerge(PebbleHttpClient.layer), Layer.provideMerge(Pebble.layer(options)))

const settings = (
  config: {
    readonly preset?: string
    readonly certificates?: ReadonlyArray<unknown>
    readonly eab?: { readonly keyId: string; readonly hmacKey: string }
    readonly account?: string
  } = {}
) =>
  Layer.effect(
    RenewalSettings.RenewalSettings,
    Effect.map(Pebble.Pebble, (pebble) => ({
      config: Schema.decodeUnknownSync(RenewalConfig.RenewalConfig)({
        ca: { directory: pebble.directoryUrl, ...(config.preset === undefined ? {} : { preset: config.preset }) },
        account: { email: "ops@example.test", name: config.account ?? "default" },
        storage: { path: "memory" },
        // by default one certificate the DNS checks do not apply to (an IP address, tls-alpn-01)
        certificates: config.certificates ?? [{ name: "ip", domains: ["192.0.2.1"], challenge: { type: "tls-alpn-01" } }]
      }),
      eab: Option.map(Option.fromNullable(config.eab), (eab) => ({ keyId: eab.keyId, hmacKey: Redacted.make(eab.hmacKey) }))
    }))
  )

const doctor = (provide: Layer.Layer<RenewalSettings.RenewalSettings, never, Pebble.Pebble>, zones: Record<string, Zone> = {}) =>
  Doctor.run().pipe(Effect.provide(Layer.merge(provide, lookups(zones))))

const only = (report: Doctor.Report, check: Doctor.CheckName) => report.checks.filter((c) => c.check === check)

layer(services())("Doctor against Pebble", (it) => {
  it.effect("the clock: within a minute of Pebble's Date header passes; 5 minutes ahead or 3 behind fail", () =>
    Effect.gen(function*() {
      // the TestClock starts at 1970: set it to the real time (the Date header has whole seconds)
      yield* TestClock.setTime(Date.now())
      const inTime = yield* doctor(settings())
      expect(only(inTime, "clock")).toMatchObject([{ status: "ok", message: expect.stringMatching(/^within [01] s of the CA's clock$/) }])
      expect(only(inTime, "ca")[0]?.status).toBe("ok")

      yield* TestClock.setTime(Date.now() + 5 * 60_000)
      const ahead = yield* doctor(settings())
      expect(only(ahead, "clock")).toMatchObject([{
        status: "fail",
        message: expect.stringMatching(/^this machine's clock is 30[01] s ahead of the CA's$/),
        fix: "synchronise the clock (timedatectl set-ntp true, or chrony/ntpd)"
      }])
      expect(ahead.ok).toBe(false)

      yield* TestClock.setTime(Date.now() - 3 * 60_000)
      const behind = yield* doctor(settings())
      expect(only(behind, "clock")[0]?.message).toMatch(/^this machine's clock is 1(79|80|81) s behind the CA's$/)
    }))

  it.effect("the account: none stored is fine, a valid one passes, a deactivated one fails with how to go on", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.now())
      // an account of its own: the storage is shared by the tests of this block
      const mine = settings({ account: "mine" })
      const none = yield* doctor(mine)
      expect(only(none, "account")).toMatchObject([{ status: "ok", message: "no account \"mine\" stored yet; `acme renew` creates one" }])
      expect(none.ok).toBe(true)

      // an account as the pipeline stores it
      const acme = yield* AcmeProtocol.AcmeProtocol
      const storage = yield* Storage.Storage
      const directory = yield* acme.directory
      const key = yield* AccountKey.generate()
      const created = yield* acme.newAccount({ directory, nonce: yield* acme.newNonce(directory), key, termsOfServiceAgreed: true })
      yield* storage.saveAccountKey(acme.directoryUrl, "mine", yield* AccountKey.toPem(key))
      yield* storage.saveAccountInfo(acme.directoryUrl, "mine", {
        url: created.value.url,
        directoryUrl: acme.directoryUrl,
        contact: [],
        createdAt: DateTime.formatIso(yield* DateTime.now),
        keyThumbprint: key.thumbprint
      })
      const valid = yield* doctor(mine)
      expect(only(valid, "account")).toMatchObject([{ status: "ok", subject: created.value.url, message: "account \"mine\" is valid" }])

      yield* Accounts.deactivate.pipe(Effect.provide(mine))
      const deactivated = yield* doctor(mine)
      expect(only(deactivated, "account")).toMatchObject([{
        status: "fail",
        // recorded by acme account deactivate (AccountInfo.deactivatedAt), so said as it is
        message: "account \"mine\" is deactivated at the CA",
        fix: "set account.name to a new name; the next `acme renew` creates that account"
      }])
    }))

  it.effect("CAA: the closest ancestor with records decides, issuewild for wildcards, lookup failures fail", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.now())
      const issue = (value: string, critical = false): Doctor.CaaRecord => ({ critical, tag: "issue", value })
      const zones: Record<string, Zone> = {
        "example.test": { caa: [issue("other-ca.example")] },
        // closer to the names below than example.test: it decides for them
        "b.example.test": { caa: [issue("letsencrypt.org; validationmethods=dns-01")] },
        "wild.example.test": { caa: [issue("letsencrypt.org"), { critical: false, tag: "issuewild", value: ";" }] },
        "broken.test": { caa: "fail" },
        "critical.test": { caa: [issue("letsencrypt.org"), { critical: true, tag: "tbs", value: "x" }] }
      }
      const certificate = (name: string, domains: ReadonlyArray<string>, type: string) => ({
        name,
        domains,
        challenge: type === "dns-01" ? { type, provider: "challtestsrv", url: "http://127.0.0.1:1" } : { type }
      })
      const report = yield* doctor(
        settings({
          preset: "letsencrypt",
          certificates: [
            certificate("deep", ["www.sub.b.example.test"], "dns-01"),
            certificate("method", ["b.example.test"], "tls-alpn-01"),
            certificate("other", ["a.example.test"], "dns-01"),
            certificate("wild", ["wild.example.test", "*.wild.example.test"], "dns-01"),
            certificate("broken", ["www.broken.test"], "dns-01"),
            certificate("critical", ["critical.test"], "dns-01"),
            certificate("free", ["free.test"], "dns-01")
          ]
        }),
        zones
      )
      const caa = Object.fromEntries(only(report, "caa").map((c) => [c.subject, [c.status, c.message]]))
      expect(caa).toEqual({
        "www.sub.b.example.test": ["ok", "CAA at b.example.test allows Let's Encrypt (issue letsencrypt.org)"],
        "b.example.test": ["fail", "CAA at b.example.test allows Let's Encrypt only with validationmethods other than tls-alpn-01"],
        "a.example.test": ["fail", "CAA at example.test allows only other-ca.example (issue), not Let's Encrypt (letsencrypt.org)"],
        "wild.example.test": ["ok", "CAA at wild.example.test allows Let's Encrypt (issue letsencrypt.org)"],
        "*.wild.example.test": ["fail", "CAA at wild.example.test allows only no CA (\";\") (issuewild), not Let's Encrypt (letsencrypt.org)"],
        "www.broken.test": ["fail", "the CAA lookup of broken.test failed (ESERVFAIL); a CA refuses to issue when it cannot read CAA"],
        "critical.test": ["fail", "the CAA record at critical.test with the critical tag \"tbs\" forbids every CA that does not know the tag"],
        "free.test": ["ok", "no CAA records at free.test or above: every CA may issue"]
      })
      const fix = only(report, "caa").find((c) => c.subject === "a.example.test")?.fix
      expect(fix).toBe("add `example.test. CAA 0 issue \"letsencrypt.org\"` to the zone")
    }))

  it.effect("CAA without knowing the CA's identities (no caaIdentities, no preset): records that restrict are a warning", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.now())
      const report = yield* doctor(
        settings({ certificates: [{ name: "x", domains: ["x.test"], challenge: { type: "tls-alpn-01" } }] }),
        { "x.test": { addresses: ["192.0.2.1"], caa: [{ critical: false, tag: "issue", value: "some-ca.example" }] } }
      )
      expect(only(report, "caa")).toMatchObject([{ status: "warn", fix: expect.stringContaining("x.test. CAA 0 issue") }])
      expect(only(report, "dns")).toMatchObject([{ status: "ok", message: "resolves to 192.0.2.1" }])
      expect(report.ok).toBe(true)
    }))

  it.effect("a name without addresses fails for http-01 and tls-alpn-01, and is only a warning for dns-01", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.now())
      const report = yield* doctor(settings({
        certificates: [
          { name: "alpn", domains: ["none.test"], challenge: { type: "tls-alpn-01" } },
          { name: "dns", domains: ["none.test"], challenge: { type: "dns-01", provider: "challtestsrv", url: "http://127.0.0.1:1" } }
        ]
      }))
      expect(only(report, "dns").map((c) => [c.certificate, c.status])).toEqual([["alpn", "fail"], ["dns", "warn"]])
    }))
})

const EAB_KEY = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"

layer(services({ eab: { required: true, keys: { "kid-1": EAB_KEY } } }))("Doctor against a Pebble that requires EAB", (it) => {
  it.effect("the directory says EAB is required: without credentials the check fails, with them it passes", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.now())
      const without = yield* doctor(settings())
      expect(only(without, "eab")).toMatchObject([{
        status: "fail",
        message: "the CA requires External Account Binding and none is configured",
        fix: "add `eab: { kid, hmacKey }` under ca (or set ACME_EAB_KID and ACME_EAB_HMAC_KEY)"
      }])
      expect(without.ok).toBe(false)
      const withEab = yield* doctor(settings({ eab: { keyId: "kid-1", hmacKey: EAB_KEY } }))
      expect(only(withEab, "eab")[0]?.status).toBe("ok")
      expect(JSON.stringify(withEab)).not.toContain(EAB_KEY)
    }))
})
