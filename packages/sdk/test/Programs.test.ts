import { Pebble } from "@acme/testing"
import {
  AccountKey,
  Accounts,
  AcmeProtocol,
  CertificateName,
  Renewal,
  RenewalSettings,
  Revocation,
  Status,
  Storage
} from "@acme/sdk"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer, Logger, Option, Ref } from "effect"
import { requests } from "./support/acme.js"
import { type CertificateInput, configFor, pipelineServices, settingsLayer } from "./support/pipeline.js"

const certificates: ReadonlyArray<CertificateInput> = [
  { name: "alpha", domains: ["alpha.programs.example.test"], challenge: "http-01" },
  { name: "beta", domains: ["beta.programs.example.test"], challenge: "dns-01" },
  { name: "gamma", domains: ["gamma.programs.example.test"], challenge: "http-01" }
]
const settings = settingsLayer(certificates)

layer(pipelineServices().pipe(Layer.provideMerge(Pebble.layer())), { excludeTestServices: true })(
  "revocation, accounts and status",
  (it) => {
    it.effect("status before any certificate: each is due now, nothing is written", () =>
      Effect.gen(function*() {
        const storage = yield* Storage.Storage
        const report = yield* Status.status.pipe(Effect.provide(settings))
        expect(report.caReachable).toBe(true)
        expect(report.certificates.map((c) => [c.name, c.next.action, c.next.reason, c.serial])).toEqual([
          ["alpha", "renew now", "there is no certificate yet", undefined],
          ["beta", "renew now", "there is no certificate yet", undefined],
          ["gamma", "renew now", "there is no certificate yet", undefined]
        ])
        expect(yield* storage.loadCheckpoints).toEqual([])
      }))

    it.effect("status after issuance: not-after, days left and the planned renewal", () =>
      Effect.gen(function*() {
        yield* Renewal.renew().pipe(Effect.provide(settings))
        const report = yield* Status.status.pipe(Effect.provide(settings))
        for (const certificate of report.certificates) {
          // as openssl prints it: upper-case hex of whole bytes
          expect(certificate.serial).toMatch(/^([0-9A-F]{2})+$/)
          expect(certificate.daysLeft).toBeGreaterThan(1000) // Pebble issues for about five years
          expect(certificate.next.action).toBe("renew later")
          expect(certificate.next.reason).toContain("renewal planned for")
          expect(certificate.renewalWindow).toBeUndefined() // Pebble 2.4 has no ARI
        }
      }))

    it.effect("revokes by account with a reason; the CA confirms, the metadata says so, status plans a renewal", () =>
      Effect.gen(function*() {
        const pebble = yield* Pebble.Pebble
        const storage = yield* Storage.Storage
        const report = yield* Revocation.revoke({ names: [CertificateName.make("alpha")], reason: "keyCompromise" }).pipe(Effect.provide(settings))
        expect(report.command).toBe("revoke")
        expect(report.certificates.map((c) => [c.name, c.action, c.reason])).toEqual([
          ["alpha", "revoked", "revoked (keyCompromise)"]
        ])
        const serial = report.certificates[0]?.serial ?? ""
        const status = yield* pebble.certificateStatus(serial)
        expect(status).toMatchObject({ status: "Revoked", reason: 1 })
        const metadata = Option.getOrThrow(yield* storage.loadCertificate(CertificateName.make("alpha"))).metadata
        expect(metadata.revocationReason).toBe("keyCompromise")
        const planned = yield* Status.status.pipe(Effect.provide(settings))
        expect(planned.certificates[0]?.next).toMatchObject({ action: "renew now" })
        expect(planned.certificates[0]?.next.reason).toMatch(/^the certificate was revoked/)
      }))

    it.effect("revokes with the certificate's own key; again is 'already revoked'; unknown names fail, the rest go on", () =>
      Effect.gen(function*() {
        const pebble = yield* Pebble.Pebble
        const report = yield* Revocation.revoke({ names: ["nope", "beta", "alpha"].map(CertificateName.make), reason: "superseded", signer: "certificateKey" })
          .pipe(Effect.provide(settings))
        expect(report.certificates.map((c) => [c.name, c.action])).toEqual([
          ["nope", "failed"],
          ["beta", "revoked"],
          ["alpha", "revoked"]
        ])
        expect(report.certificates[0]?.reason).toBe(`there is no certificate named "nope" in storage`)
        expect(report.certificates[2]?.reason).toBe("it was already revoked")
        expect((yield* pebble.certificateStatus(report.certificates[1]?.serial ?? "")).reason).toBe(4)
        // signed by the certificate key: the revokeCert requests carried a jwk, not the account's kid
        const directory = yield* Effect.flatMap(AcmeProtocol.AcmeProtocol, (acme) => acme.directory)
        const revocations = (yield* requests).filter((r) => r.url === directory.revokeCert)
        expect(revocations.length).toBeGreaterThanOrEqual(3)
      }))

    it.effect("a revoked certificate is renewed by the next run", () =>
      Effect.gen(function*() {
        const report = yield* Renewal.renew({ only: ["alpha"] }).pipe(Effect.provide(settings))
        expect(report.certificates[0]).toMatchObject({ name: "alpha", action: "renewed" })
        expect(report.certificates[0]?.reason).toMatch(/^the certificate was revoked/)
        expect(report.certificates.slice(1).map((c) => c.reason)).toEqual(["not selected (--only)", "not selected (--only)"])
      }))

    it.effect("account show, update-contact and rollover, as the CA sees them", () =>
      Effect.gen(function*() {
        const acme = yield* AcmeProtocol.AcmeProtocol
        const storage = yield* Storage.Storage
        const pebble = yield* Pebble.Pebble
        const shown = yield* Accounts.show.pipe(Effect.provide(settings))
        expect(shown).toMatchObject({ name: "default", status: "valid", contact: ["mailto:ops@example.test"], algorithm: "ES256" })
        const updated = yield* Accounts.updateContact(["new@example.test", "two@example.test"]).pipe(Effect.provide(settings))
        expect(updated.contact).toEqual(["mailto:new@example.test", "mailto:two@example.test"])

        const oldPem = Option.getOrThrow(yield* storage.loadAccount(pebble.directoryUrl, "default")).keyPem
        const rolled = yield* Accounts.rollover("ES384").pipe(Effect.provide(settings))
        expect(rolled.algorithm).toBe("ES384")
        expect(rolled.url).toBe(shown.url)
        expect(rolled.keyThumbprint).not.toBe(shown.keyThumbprint)
        // storage now holds the new key, and the old one is refused by the CA
        const stored = Option.getOrThrow(yield* storage.loadAccount(pebble.directoryUrl, "default"))
        expect((yield* AccountKey.fromPem(stored.keyPem)).thumbprint).toBe(rolled.keyThumbprint)
        const directory = yield* acme.directory
        const old = yield* AccountKey.fromPem(oldPem)
        const refused = yield* Effect.flip(acme.newAccount({ directory, nonce: yield* acme.newNonce(directory), key: old, onlyReturnExisting: true }))
        expect(refused._tag).toBe("AccountDoesNotExist")
        // the new key staged for the rollover is gone, and it never was an account of its own
        expect(yield* storage.loadRolloverKey(pebble.directoryUrl, "default")).toEqual(Option.none())
        expect(yield* storage.loadAccount(pebble.directoryUrl, "default-rollover")).toEqual(Option.none())
        // and renewals go on with the new key
        const report = yield* Renewal.renew({ force: true, only: ["gamma"] }).pipe(Effect.provide(settings))
        expect(report.certificates.find((c) => c.name === "gamma")?.action).toBe("renewed")
      }))

    it.effect("an interrupted rollover (the CA switched, storage did not) is completed by the next one", () =>
      Effect.gen(function*() {
        const acme = yield* AcmeProtocol.AcmeProtocol
        const storage = yield* Storage.Storage
        const pebble = yield* Pebble.Pebble
        const before = yield* Accounts.show.pipe(Effect.provide(settings))
        // do by hand what rollover does, up to the CA's switch
        const current = Option.getOrThrow(yield* storage.loadAccount(pebble.directoryUrl, "default"))
        const newKey = yield* AccountKey.generate("ES256")
        yield* storage.saveRolloverKey(pebble.directoryUrl, "default", Option.some(yield* AccountKey.toPem(newKey)))
        const directory = yield* acme.directory
        yield* acme.changeKey({
          directory,
          nonce: yield* acme.newNonce(directory),
          account: { key: yield* AccountKey.fromPem(current.keyPem), url: before.url },
          newKey
        })
        // "crash": storage still has the old key, which the CA refuses now
        const completed = yield* Accounts.rollover().pipe(Effect.provide(settings))
        expect(completed.keyThumbprint).toBe(newKey.thumbprint)
        expect(completed.url).toBe(before.url)
        expect(yield* storage.loadRolloverKey(pebble.directoryUrl, "default")).toEqual(Option.none())
      }))

    it.effect("a changed account.email becomes the account's contact at the next renewal, with a notice", () =>
      Effect.gen(function*() {
        const pebble = yield* Pebble.Pebble
        const changed = Layer.effect(
          RenewalSettings.RenewalSettings,
          Effect.map(Pebble.Pebble, (p) => {
            const config = configFor(p, certificates)
            return { config: { ...config, account: { ...config.account, email: "changed@example.test" } }, eab: Option.none() }
          })
        )
        const logs = yield* Ref.make<ReadonlyArray<string>>([])
        const logger = Logger.make(({ message }) => Effect.runSync(Ref.update(logs, (all) => [...all, String(message)])))
        const report = yield* Renewal.renew({ force: true, only: ["gamma"] }).pipe(
          Effect.provide(changed),
          Effect.provide(Logger.replace(Logger.defaultLogger, logger))
        )
        expect(report.certificates.find((c) => c.name === "gamma")?.action).toBe("renewed")
        const shown = yield* Accounts.show.pipe(Effect.provide(changed))
        expect(shown.contact).toEqual(["mailto:changed@example.test"])
        expect((yield* Ref.get(logs)).join("\n")).toContain(
          `account.email changed: the contact of account ${shown.url} at ${pebble.directoryUrl} is now mailto:changed@example.test`
        )
        // a second run changes nothing more
        yield* Ref.set(logs, [])
        yield* Renewal.renew({ only: ["gamma"] }).pipe(Effect.provide(changed), Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
        expect((yield* Ref.get(logs)).join("\n")).not.toContain("account.email changed")
      }))

    it.effect("deactivates the account; the CA then refuses it", () =>
      Effect.gen(function*() {
        const deactivated = yield* Accounts.deactivate.pipe(Effect.provide(settings))
        expect(deactivated.status).toBe("deactivated")
        // recorded: show says so (the CA is not asked: it refuses the account now)
        const shown = yield* Accounts.show.pipe(Effect.provide(settings))
        expect(shown).toMatchObject({ url: deactivated.url, status: "deactivated" })
        expect(shown.deactivatedAt).toBeDefined()
        // and a renewal says how to go on, instead of "check the credentials"
        const report = yield* Renewal.renew({ force: true, only: ["gamma"] }).pipe(Effect.provide(settings))
        const gamma = report.certificates.find((c) => c.name === "gamma")
        expect(gamma?.action).toBe("failed")
        expect(gamma?.attempts).toBe(1)
        expect(gamma?.error?.type).toBe("PipelineError")
        expect(gamma?.reason).toMatch(/account default at .* was deactivated on .*set account\.name to a new name/)
        expect(gamma?.reason).not.toContain("check the credentials")
      }))
  }
)
