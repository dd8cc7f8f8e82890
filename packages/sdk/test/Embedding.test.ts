/**
 * Embedding the pipeline without the CLI's help: what the configuration given in `RenewalSettings`
 * says is what the pipeline does, and what a Layer says is not asked for again in it. No `storage`
 * section when `Storage` is a Layer; `renewal.daysBefore` decides when a certificate is due.
 */
import { Pebble, PebbleHttpClient } from "@acme/testing"
import {
  AcmeProtocol,
  CertificateName,
  ChallengeSolver,
  Planner,
  Renewal,
  RenewalConfig,
  RenewalSettings,
  Reporter,
  Storage
} from "@acme/sdk"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer, Option, Schema } from "effect"

const day = 86_400

/** Pebble issuing 30-day certificates, http-01 answered through challtestsrv, storage in memory */
const Embedded = Layer.mergeAll(
  Layer.unwrapEffect(
    Effect.map(Pebble.Pebble, (pebble) => AcmeProtocol.layer({ directoryUrl: pebble.directoryUrl, pollInterval: "50 millis" }))
  ).pipe(Layer.provide(PebbleHttpClient.layer)),
  ChallengeSolver.layer.pipe(
    Layer.provide(Layer.effect(
      ChallengeSolver.Http01Responder,
      Effect.map(Pebble.Pebble, (pebble): ChallengeSolver.Responder => ({
        present: (task) => Effect.orDie(pebble.addHttp01(task.token, task.keyAuthorization)),
        cleanup: (task) => Effect.ignore(pebble.removeHttp01(task.token))
      }))
    ))
  ),
  Storage.layerMemory,
  Planner.layer(),
  Reporter.layer
).pipe(Layer.provideMerge(Pebble.layer({ certificateValidityPeriodSeconds: 30 * day })))

/** a configuration as an embedding program writes it: no storage section, no CLI-only keys */
const settings = (directory: string, renewal: { readonly daysBefore?: number } = {}) =>
  Effect.map(
    Schema.decodeUnknown(RenewalConfig.RenewalConfig, { onExcessProperty: "error" })({
      ca: { directory },
      account: { email: "ops@example.test" },
      renewal,
      certificates: [{ name: "app", domains: ["app.embedding.example.test"], challenge: { type: "http-01" } }]
    }),
    (config): RenewalSettings.Settings => ({ config, eab: Option.none() })
  )

const renewWith = (renewal: { readonly daysBefore?: number } = {}) =>
  Effect.gen(function*() {
    const pebble = yield* Pebble.Pebble
    const given = yield* settings(pebble.directoryUrl, renewal)
    const report = yield* Renewal.renew().pipe(Effect.provideService(RenewalSettings.RenewalSettings, given))
    expect(report.certificates.map((c) => c.name)).toEqual(["app"])
    return report.certificates[0] ?? { action: "none", reason: "no entry" }
  })

layer(Embedded, { excludeTestServices: true })("embedding the renewal pipeline", (it) => {
  it.effect("needs no storage section when Storage is a Layer, and applies renewal.daysBefore from the configuration", () =>
    Effect.gen(function*() {
      const storage = yield* Storage.Storage
      const issued = yield* renewWith()
      expect(issued.action).toBe("renewed")
      const first = Option.getOrThrow(yield* storage.loadCertificate(CertificateName.make("app"))).metadata.serialNumber

      // a 30-day certificate with 30 days left: due when a third of it is left, so not yet
      const notYet = yield* renewWith()
      expect(notYet.action).toBe("skipped")
      expect(notYet.reason).toContain("when a third of its lifetime is left")

      // the same certificate with renewal.daysBefore: 40 in the configuration: due now, and renewed
      const early = yield* renewWith({ daysBefore: 40 })
      expect(early.action).toBe("renewed")
      expect(early.reason).toContain("40 days before expiry (renewal.daysBefore)")
      const second = Option.getOrThrow(yield* storage.loadCertificate(CertificateName.make("app"))).metadata.serialNumber
      expect(second).not.toBe(first)
    }))

  it.effect("has no ca.trust: the CA's TLS trust belongs to the HTTP client Layer", () =>
    Effect.gen(function*() {
      const decoded = yield* Effect.either(
        Schema.decodeUnknown(RenewalConfig.RenewalConfig, { onExcessProperty: "error" })({
          ca: { directory: "https://ca.example.test/directory", trust: ["/etc/ssl/private-ca.pem"] },
          certificates: [{ name: "app", domains: ["app.example.test"], challenge: { type: "http-01" } }]
        })
      )
      expect(decoded._tag).toBe("Left")
      expect(String(decoded)).toContain("trust")
    }))
})
