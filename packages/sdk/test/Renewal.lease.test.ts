/**
 * The renewal pipeline under leases, against Pebble (memory storage, runs in this process): a
 * certificate another run holds is left to it (or waited for), one another run renewed since the
 * scan is not ordered again, a lost lease ends the certificate's attempt with no write, the pipeline
 * writes a certificate only through its lease, and a run is resumed by one process only, never
 * while it is going on.
 */
import { Pebble } from "@acme/testing"
import { AccountKey, CertificateName, CrashPoint, Lease, Renewal, RenewalState, Revocation, Storage } from "@acme/sdk"
import { expect, layer } from "@effect/vitest"
import { DateTime, Effect, Exit, Fiber, Layer, Option } from "effect"
import { requests } from "./support/acme.js"
import { type CertificateInput, pipelineServices, settingsLayer } from "./support/pipeline.js"

const isNewOrder = (r: { readonly method: string; readonly url: string }) =>
  r.method === "POST" && r.url.endsWith("/order-plz")

const one = (name: string): ReadonlyArray<CertificateInput> => [
  { name, domains: [`${name}.lease.example.test`], challenge: "http-01" }
]

/** another run, of another process of this host (the Host default: "unknown") */
const other: Lease.LeaseHolder = { runId: "2026-12-01T12-00-00.000Z-othr", host: "unknown", pid: 4242 }

const ordersFor = (name: string) =>
  Effect.map(
    requests,
    (log) => log.filter((r) => isNewOrder(r) && JSON.stringify(r.payload).includes(`"${name}.lease.example.test"`))
  )

/** a CrashPoint that runs `effect` when the pipeline reaches `point` */
const at = (point: string, effect: Effect.Effect<void>) =>
  Layer.succeed(CrashPoint.CrashPoint, { reach: (p) => (p === point ? effect : Effect.void) })

/** a storage whose writes that no lease fences die: the pipeline must not use them */
const fencedOnly = Layer.effect(
  Storage.Storage,
  Effect.map(Storage.makeMemory, (storage): Storage.Service => ({
    ...storage,
    saveCertificate: () => Effect.dieMessage("saveCertificate without a lease"),
    updateMetadata: () => Effect.dieMessage("updateMetadata without a lease"),
    savePendingKey: () => Effect.dieMessage("savePendingKey without a lease"),
    deletePendingKey: () => Effect.dieMessage("deletePendingKey without a lease"),
    saveCheckpoint: () => Effect.dieMessage("saveCheckpoint without its owner")
  }))
)

layer(pipelineServices().pipe(Layer.provideMerge(Pebble.layer())), { excludeTestServices: true })(
  "the renewal pipeline under leases",
  (it) => {
    it.effect("a certificate another run holds is left to it: skipped, being renewed by that run, no order", () =>
      Effect.gen(function*() {
        const storage = yield* Storage.Storage
        const held = yield* storage.acquireLease({ certificate: "held", holder: other, ttl: "1 minute" })
        const report = yield* Renewal.renew().pipe(Effect.provide(settingsLayer(one("held"))))
        expect(report.certificates[0]).toMatchObject({
          name: "held",
          action: "skipped",
          reason: `being renewed by run ${other.runId} (pid 4242)`
        })
        expect(yield* ordersFor("held")).toEqual([])
        // the other run's lease is as it was
        expect(yield* storage.loadLease("held")).toEqual(Option.some(held))
        yield* storage.releaseLease(held)
      }))

    it.effect("with wait, the run renews it once the other run lets go; or says the wait is over", () =>
      Effect.gen(function*() {
        const storage = yield* Storage.Storage
        const held = yield* storage.acquireLease({ certificate: "waited", holder: other, ttl: "1 minute" })
        const fiber = yield* Effect.fork(
          Renewal.renew({ wait: "1 minute" }).pipe(Effect.provide(settingsLayer(one("waited"))))
        )
        yield* Effect.sleep("1500 millis")
        expect(yield* ordersFor("waited")).toEqual([])
        yield* storage.releaseLease(held)
        const report = yield* Fiber.join(fiber)
        expect(report.certificates[0]?.action).toBe("renewed")
        expect(yield* ordersFor("waited")).toHaveLength(1)

        const kept = yield* storage.acquireLease({ certificate: "kept", holder: other, ttl: "1 minute" })
        const started = yield* DateTime.now
        const given = yield* Renewal.renew({ wait: "2 seconds" }).pipe(Effect.provide(settingsLayer(one("kept"))))
        expect(DateTime.distance(started, yield* DateTime.now)).toBeGreaterThanOrEqual(2000)
        expect(given.certificates[0]).toMatchObject({
          action: "skipped",
          reason: `being renewed by run ${other.runId} (pid 4242); the wait for it is over`
        })
        expect(yield* ordersFor("kept")).toEqual([])
        yield* storage.releaseLease(kept)
      }))

    it.effect("a certificate another run renewed since this run's scan is not ordered again", () =>
      Effect.gen(function*() {
        const storage = yield* Storage.Storage
        // right after this run planned: another run stores a certificate for it
        const meanwhile = Effect.gen(function*() {
          const lease = yield* storage.acquireLease({ certificate: "meanwhile", holder: other, ttl: "1 minute" })
          yield* storage.fenced(lease).saveCertificate({
            certPem: "cert\n",
            chainPem: "chain\n",
            fullchainPem: "fullchain\n",
            keyPem: "key\n",
            metadata: {
              version: 1,
              name: CertificateName.make("meanwhile"),
              identifiers: [{ type: "dns", value: "meanwhile.lease.example.test" }],
              keyType: "ec-p256",
              serialNumber: "0a1b",
              notBefore: "2026-12-01T00:00:00.000Z",
              notAfter: "2027-03-01T00:00:00.000Z",
              issuer: "another run",
              directoryUrl: "https://ca.example/dir",
              issuedAt: "2026-12-01T00:00:00.000Z"
            }
          })
          yield* storage.releaseLease(lease)
        }).pipe(Effect.orDie)
        const report = yield* Renewal.renew().pipe(
          Effect.provide(settingsLayer(one("meanwhile"))),
          Effect.provide(at("after:plan", meanwhile))
        )
        expect(report.certificates[0]).toMatchObject({
          action: "skipped",
          reason: "renewed by another run since this run read it (serial 0a1b, valid until 2027-03-01T00:00:00.000Z)",
          serial: "0a1b"
        })
        expect(yield* ordersFor("meanwhile")).toEqual([])
      }))

    it.effect("a lost lease ends the attempt: the next write is refused, nothing of it is stored", () =>
      Effect.gen(function*() {
        const storage = yield* Storage.Storage
        // when this run is about to store, another run takes the certificate over (as after a pause)
        const takeOver = storage.acquireLease({
          certificate: "taken",
          holder: other,
          ttl: "1 minute",
          takeOver: () => Effect.succeed(true)
        }).pipe(Effect.orDie, Effect.asVoid)
        const before = (yield* requests).length
        const report = yield* Renewal.renew().pipe(
          Effect.provide(settingsLayer(one("taken"))),
          Effect.provide(at("before:store", takeOver))
        )
        const result = report.certificates[0]
        expect(result?.action).toBe("failed")
        expect(result?.error?.type).toBe("LeaseError")
        expect(result?.reason).toMatch(
          new RegExp(`^this run lost its lease on taken and stopped working on it: the lease on taken \\(token 1\\) was lost: run ${other.runId} \\(pid 4242 on unknown\\) holds it now \\(token 2\\)`)
        )
        // store's write was refused: nothing of it is stored, and the certificate was downloaded once
        expect(yield* storage.loadCertificate(CertificateName.make("taken"))).toEqual(Option.none())
        const log = (yield* requests).slice(before)
        expect(log.filter((r) => r.method === "POST" && r.url.includes("/certZ/"))).toHaveLength(1)
        expect(Option.map(yield* storage.loadLease("taken"), (l) => l.holder)).toEqual(Option.some(other))
      }))

    it.effect("a lost lease is noticed by its renewal too, before any write: the attempt ends at once", () =>
      Effect.gen(function*() {
        const storage = yield* Storage.Storage
        // another run takes it over, then this run stays at the crash point longer than a third of its 3 s lease
        const takeOver = storage.acquireLease({
          certificate: "renewal",
          holder: other,
          ttl: "1 minute",
          takeOver: () => Effect.succeed(true)
        }).pipe(Effect.orDie, Effect.zipRight(Effect.sleep("5 seconds")))
        const started = yield* DateTime.now
        const before = (yield* requests).length
        const report = yield* Renewal.renew().pipe(
          Effect.provide(settingsLayer(one("renewal"), { leaseTtl: "3 seconds" })),
          Effect.provide(at("before:finalize", takeOver))
        )
        // ended by the renewal (every second), not after the five seconds of the crash point
        expect(DateTime.distance(started, yield* DateTime.now)).toBeLessThan(4500)
        expect(report.certificates[0]?.error?.type).toBe("LeaseError")
        const log = (yield* requests).slice(before)
        expect(log.filter((r) => r.method === "POST" && r.url.includes("/finalize-order/"))).toEqual([])
      }))

    it.effect("the pipeline writes a certificate, its keys and its checkpoints only through leases", () =>
      Effect.gen(function*() {
        const certificates = one("fenced")
        const first = yield* Renewal.renew().pipe(Effect.provide(settingsLayer(certificates)))
        expect(first.certificates[0]?.action).toBe("renewed")
        const second = yield* Renewal.renew({ force: true }).pipe(Effect.provide(settingsLayer(certificates)))
        expect(second.certificates[0]?.action).toBe("renewed")
        const storage = yield* Storage.Storage
        expect(Option.map(yield* storage.loadCertificate(CertificateName.make("fenced")), (c) => c.metadata.serialNumber)).toEqual(
          Option.some(second.certificates[0]?.serial)
        )
        expect(yield* storage.listLeases).toEqual([])
      }).pipe(Effect.provide(fencedOnly)))

    it.effect("runs that set the account up at once end up with one account, whose key is the stored one", () =>
      Effect.gen(function*() {
        const [a, b] = yield* Effect.all([
          Renewal.renew().pipe(Effect.provide(settingsLayer(one("first-a")))),
          Renewal.renew().pipe(Effect.provide(settingsLayer(one("first-b"))))
        ], { concurrency: "unbounded" })
        expect([a.certificates[0]?.action, b.certificates[0]?.action]).toEqual(["renewed", "renewed"])
        expect(a.runId).not.toBe(b.runId)
        const pebble = yield* Pebble.Pebble
        const stored = Option.getOrThrow(yield* (yield* Storage.Storage).loadAccount(pebble.directoryUrl, "default"))
        const key = yield* AccountKey.fromPem(stored.keyPem)
        expect(Option.getOrThrow(stored.info).keyThumbprint).toBe(key.thumbprint)
      }).pipe(Effect.provide(Storage.layerMemory)))

    it.effect("an interrupted run is resumed by one run only, and never while its lease is held", () =>
      Effect.gen(function*() {
        const storage = yield* Storage.Storage
        const interrupt = (name: string) =>
          Effect.gen(function*() {
            const exit = yield* Effect.exit(Renewal.renew().pipe(
              Effect.provide(settingsLayer(one(name))),
              Effect.provide(at("after:order", Effect.interrupt))
            ))
            expect(Exit.isInterrupted(exit)).toBe(true)
            return Option.getOrThrow(RenewalState.decode((yield* storage.loadCheckpoints).at(-1)?.json ?? "")).runId
          })

        // while another process holds a run's lease, the run is not resumed: a new run does the work
        const going = yield* interrupt("claimed")
        const live = yield* storage.acquireLease({ certificate: Lease.runKey(going), holder: other, ttl: "1 minute" })
        const fresh = yield* Renewal.renew().pipe(Effect.provide(settingsLayer(one("claimed"))))
        expect(fresh.resumed).toBe(false)
        expect(fresh.runId).not.toBe(going)
        expect(fresh.certificates[0]?.action).toBe("renewed")
        yield* storage.releaseLease(live)

        // a run two runs find at once: one resumes it, the other starts its own
        const interrupted = yield* interrupt("claimed-twice")
        const [x, y] = yield* Effect.all([
          Renewal.renew().pipe(Effect.provide(settingsLayer(one("claimed-twice")))),
          Renewal.renew().pipe(Effect.provide(settingsLayer(one("claimed-twice"))))
        ], { concurrency: "unbounded" })
        expect([x, y].filter((report) => report.resumed).map((report) => report.runId)).toEqual([interrupted])
        expect(x.runId).not.toBe(y.runId)
        // the run record is the resuming run's, and it finished
        const record = (yield* storage.loadCheckpoints).find((checkpoint) => checkpoint.runId === interrupted)
        expect(Option.map(RenewalState.decode(record?.json ?? ""), (state) => state.phase)).toEqual(Option.some("done"))
        expect([x, y].flatMap((report) => report.certificates.map((c) => c.action))).toContain("renewed")
      }))

    it.effect("a revocation leaves a certificate another run holds alone", () =>
      Effect.gen(function*() {
        const storage = yield* Storage.Storage
        const settings = settingsLayer(one("revoked"))
        expect((yield* Renewal.renew().pipe(Effect.provide(settings))).certificates[0]?.action).toBe("renewed")
        const held = yield* storage.acquireLease({ certificate: "revoked", holder: other, ttl: "1 minute" })
        const report = yield* Revocation.revoke({ names: [CertificateName.make("revoked")] }).pipe(Effect.provide(settings))
        expect(report.certificates[0]).toMatchObject({
          action: "failed",
          reason: `revoked is being renewed by run ${other.runId} (pid 4242); revoke it once that run is done`
        })
        expect(Option.map(yield* storage.loadCertificate(CertificateName.make("revoked")), (c) => c.metadata.revokedAt)).toEqual(
          Option.some(undefined)
        )
        yield* storage.releaseLease(held)
        const revoked = yield* Revocation.revoke({ names: [CertificateName.make("revoked")] }).pipe(Effect.provide(settings))
        expect(revoked.certificates[0]?.action).toBe("revoked")
        expect(yield* storage.loadLease("revoked")).toEqual(Option.none())
      }))
  }
)
