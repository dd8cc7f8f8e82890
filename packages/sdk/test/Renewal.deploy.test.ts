/**
 * Deploy hooks that are not forgotten: a certificate is stored owing its hook, a failed hook is
 * recorded in its metadata, and each later run runs the hook alone (no order) until it succeeds.
 */
import { Pebble } from "@acme/testing"
import { CertificateName, DeployHook, Host, Renewal, Storage } from "@acme/sdk"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer, Option, Ref } from "effect"
import { requests } from "./support/acme.js"
import { type CertificateInput, pipelineServices, settingsLayer } from "./support/pipeline.js"

const newOrders = Effect.map(requests, (log) => log.filter((r) => r.method === "POST" && r.url.endsWith("/order-plz")).length)

/** a hook runner that fails while `failing` holds, and counts its runs */
const hooks = (failing: Ref.Ref<boolean>, runs: Ref.Ref<number>) =>
  Layer.succeed(DeployHook.DeployHook, {
    run: ({ certificate, command }) =>
      Effect.gen(function*() {
        yield* Ref.update(runs, (n) => n + 1)
        if (yield* Ref.get(failing)) {
          return yield* new DeployHook.DeployHookError({ certificate, command, reason: "ExitCode", exitCode: 3, output: "nginx: bad config" })
        }
      })
  })

const owed = (name: string) =>
  Effect.map(Effect.flatMap(Storage.Storage, (storage) => storage.loadCertificate(CertificateName.make(name))), (stored) =>
    Option.getOrThrow(stored).metadata.pendingDeploy)

layer(pipelineServices().pipe(Layer.provideMerge(Pebble.layer())), { excludeTestServices: true })(
  "deploy hooks that are not forgotten",
  (it) => {
    const hooked: ReadonlyArray<CertificateInput> = [
      { name: "hooked", domains: ["hooked.deploy.example.test"], challenge: "http-01", deployHook: "systemctl reload nginx" }
    ]

    it.effect("a failed hook is owed, run again alone by the next runs until it succeeds, and then never again", () =>
      Effect.gen(function*() {
        const failing = yield* Ref.make(true)
        const runs = yield* Ref.make(0)
        const renew = Renewal.renew().pipe(Effect.provide(settingsLayer(hooked)), Effect.provide(hooks(failing, runs)))

        const first = yield* renew
        expect(first.certificates[0]).toMatchObject({ action: "failed", deploy: { status: "pending", attempts: 1 } })
        expect(yield* owed("hooked")).toMatchObject({ attempts: 1, error: "exited with code 3: nginx: bad config" })
        const serial = first.certificates[0]?.serial
        const orders = yield* newOrders

        const second = yield* renew
        expect(second.certificates[0]).toMatchObject({ action: "failed", serial, deploy: { status: "pending", attempts: 2 } })
        expect(second.counts).toEqual({ renewed: 0, skipped: 0, failed: 1, revoked: 0 })

        yield* Ref.set(failing, false)
        const third = yield* renew
        expect(third.certificates[0]).toMatchObject({ action: "skipped", serial, deploy: { status: "done" } })
        expect(yield* owed("hooked")).toBeUndefined()
        expect(yield* Ref.get(runs)).toBe(3)

        const fourth = yield* renew
        expect(fourth.certificates[0]).toMatchObject({ action: "skipped", serial })
        expect(fourth.certificates[0]?.deploy).toBeUndefined()
        expect(yield* Ref.get(runs)).toBe(3)
        // the hook alone: no order after the first run
        expect(yield* newOrders).toBe(orders)
      }))

    it.effect("a hook that never ran (the process died after the files were stored) runs at the next run", () =>
      Effect.gen(function*() {
        const storage = yield* Storage.Storage
        const runs = yield* Ref.make(0)
        const renew = Renewal.renew({ only: ["hooked"] }).pipe(
          Effect.provide(settingsLayer(hooked)),
          Effect.provide(hooks(yield* Ref.make(false), runs))
        )
        // what a crash between the store and the hook leaves: the certificate, owing its hook
        const stored = Option.getOrThrow(yield* storage.loadCertificate(CertificateName.make("hooked")))
        yield* storage.updateMetadata(CertificateName.make("hooked"), { ...stored.metadata, pendingDeploy: { since: stored.metadata.issuedAt, attempts: 0 } })
        const report = yield* renew
        expect(report.certificates[0]).toMatchObject({ action: "skipped", deploy: { status: "done" } })
        expect(yield* Ref.get(runs)).toBe(1)
        expect(yield* owed("hooked")).toBeUndefined()
      }))

    it.effect("a hook taken out of the configuration is owed no more; a dry run only says it is owed", () =>
      Effect.gen(function*() {
        const storage = yield* Storage.Storage
        const runs = yield* Ref.make(0)
        const stored = Option.getOrThrow(yield* storage.loadCertificate(CertificateName.make("hooked")))
        yield* storage.updateMetadata(CertificateName.make("hooked"), { ...stored.metadata, pendingDeploy: { since: stored.metadata.issuedAt, attempts: 2, error: "boom" } })
        const dry = yield* Renewal.renew({ dryRun: true }).pipe(Effect.provide(settingsLayer(hooked)), Effect.provide(hooks(yield* Ref.make(false), runs)))
        expect(dry.certificates[0]).toMatchObject({ action: "skipped", deploy: { status: "pending", attempts: 2, error: "boom" } })
        expect(yield* Ref.get(runs)).toBe(0)

        const unhooked = hooked.map(({ deployHook: _none, ...rest }) => rest)
        const report = yield* Renewal.renew().pipe(Effect.provide(settingsLayer(unhooked)), Effect.provide(hooks(yield* Ref.make(false), runs)))
        expect(report.certificates[0]?.action).toBe("skipped")
        expect(yield* Ref.get(runs)).toBe(0)
        expect(yield* owed("hooked")).toBeUndefined()
      }))

    it.effect("an owed hook is run under the certificate's lease: left alone while another run holds it", () =>
      Effect.gen(function*() {
        const storage = yield* Storage.Storage
        const runs = yield* Ref.make(0)
        const name = CertificateName.make("hooked")
        const stored = Option.getOrThrow(yield* storage.loadCertificate(name))
        yield* storage.updateMetadata(name, { ...stored.metadata, pendingDeploy: { since: stored.metadata.issuedAt, attempts: 1, error: "boom" } })
        const renew = Renewal.renew().pipe(Effect.provide(settingsLayer(hooked)), Effect.provide(hooks(yield* Ref.make(false), runs)))
        // another live run (this very process, so that it is not taken over as gone) holds the certificate
        const other = yield* storage.acquireLease({ certificate: name, holder: yield* Host.holder("another-run"), ttl: "1 hour" })
        const whileHeld = yield* renew
        expect(yield* Ref.get(runs)).toBe(0)
        expect(whileHeld.certificates[0]?.action).toBe("skipped")
        expect(yield* owed("hooked")).toMatchObject({ attempts: 1, error: "boom" })
        // the other run's fenced write still goes through: this run wrote nothing for the certificate
        yield* storage.fenced(other).updateMetadata({ ...stored.metadata, pendingDeploy: { since: stored.metadata.issuedAt, attempts: 2 } })
        yield* storage.releaseLease(other)

        const after = yield* renew
        expect(yield* Ref.get(runs)).toBe(1)
        expect(after.certificates[0]).toMatchObject({ action: "skipped", deploy: { status: "done" } })
        expect(yield* owed("hooked")).toBeUndefined()
      }))
  }
)
