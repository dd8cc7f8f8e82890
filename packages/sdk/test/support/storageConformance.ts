/**
 * The storage conformance suite: the same tests for every `Storage` (memory, file system, Postgres),
 * records and leases. Call it inside a `layer(...)` block with an effect that makes a fresh, empty
 * storage for each test:
 *
 * ```ts
 * layer(Layer.empty)("memory storage", (it) => storageConformance(it, Storage.makeMemory))
 * ```
 *
 * The lease tests run on the TestClock: expiry is reached with `TestClock.adjust`, never by waiting.
 */
import { CertificateName, Lease, type Storage } from "@acme/sdk"
import { expect, type Vitest } from "@effect/vitest"
import { DateTime, Effect, Either, Option, TestClock } from "effect"
import type * as Scope from "effect/Scope"

type AnyStorage = Storage.Service

const directoryUrl = "https://127.0.0.1:14000/dir"
const ttl = "30 seconds"
const start = Date.UTC(2026, 11, 1, 12, 0, 0)

const holder = (n: number, host = "host-a"): Lease.LeaseHolder => ({
  runId: `2026-12-01T12-00-00.000Z-run${n}`,
  host,
  pid: 1000 + n
})

const metadata = (serialNumber: string, name: string): Storage.CertificateMetadata => ({
  version: 1,
  name: CertificateName.make(name),
  identifiers: [{ type: "dns", value: `${name}.example.org` }],
  keyType: "ec-p256",
  serialNumber,
  notBefore: "2026-12-01T00:00:00.000Z",
  notAfter: "2027-03-01T00:00:00.000Z",
  issuer: "Pebble Intermediate CA",
  directoryUrl,
  issuedAt: "2026-12-01T00:00:01.000Z"
})

/** a certificate whose every file says which version it is */
const files = (version: number, name = "site"): Storage.CertificateFiles => ({
  certPem: `cert-v${version}\n`,
  chainPem: `chain-v${version}\n`,
  fullchainPem: `fullchain-v${version}\n`,
  keyPem: `key-v${version}\n`,
  metadata: metadata(`0${version}`, name)
})

const acquire = (storage: AnyStorage, certificate: string, who: Lease.LeaseHolder) =>
  storage.acquireLease({ certificate, holder: who, ttl })

/** the LeaseError an effect fails with (the test fails if it succeeds or fails otherwise) */
const leaseError = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.flatMap(Effect.flip(effect), (error) =>
    Lease.isLeaseError(error) ? Effect.succeed(error) : Effect.dieMessage(`expected a LeaseError, got ${String(error)}`))

export const storageConformance = <R, E>(
  it: Vitest.MethodsNonLive<R>,
  fresh: Effect.Effect<AnyStorage, E, R | Scope.Scope>
): void => {
  /** a test on a fresh storage, the TestClock set to 2026-12-01T12:00:00Z */
  const test = (name: string, body: (storage: AnyStorage) => Effect.Effect<void, unknown, R | Scope.Scope>) =>
    it.scoped(name, () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(start)
        yield* body(yield* fresh)
      }))

  test("certificates: save, load, key, list, metadata", (storage) =>
    Effect.gen(function*() {
      expect(yield* storage.loadCertificate(CertificateName.make("site"))).toEqual(Option.none())
      expect(yield* storage.loadCertificateKey(CertificateName.make("site"))).toEqual(Option.none())
      expect(yield* storage.listCertificates).toEqual([])
      const paths = yield* storage.saveCertificate({ name: CertificateName.make("site"), ...files(1) })
      expect(paths).toEqual(storage.certificatePaths(CertificateName.make("site")))
      yield* storage.saveCertificate({ name: CertificateName.make("other"), ...files(1, "other") })
      yield* storage.saveCertificate({ name: CertificateName.make("site"), ...files(2) })
      const stored = Option.getOrThrow(yield* storage.loadCertificate(CertificateName.make("site")))
      expect(stored.fullchainPem).toBe("fullchain-v2\n")
      expect(stored.metadata).toEqual(metadata("02", "site"))
      expect(yield* storage.loadCertificateKey(CertificateName.make("site"))).toEqual(Option.some("key-v2\n"))
      expect(yield* storage.loadCertificateMetadata(CertificateName.make("site"))).toEqual(Option.some(metadata("02", "site")))
      expect(yield* storage.loadCertificateMetadata(CertificateName.make("absent"))).toEqual(Option.none())
      expect(yield* storage.listCertificates).toEqual(["other", "site"])
      const revoked = { ...metadata("02", "site"), revokedAt: "2026-12-02T00:00:00.000Z", revocationReason: "superseded" }
      yield* storage.updateMetadata(CertificateName.make("site"), revoked)
      expect(Option.map(yield* storage.loadCertificate(CertificateName.make("site")), (c) => c.metadata)).toEqual(Option.some(revoked))
      // nothing stored, nothing to update
      yield* storage.updateMetadata(CertificateName.make("absent"), metadata("09", "absent"))
      expect(yield* storage.loadCertificate(CertificateName.make("absent"))).toEqual(Option.none())
      for (const bad of ["../etc", "a/b", "", ".hidden", "with space"]) {
        // a caller that bypasses the type (JavaScript, a cast) meets the storage's own check
        const unchecked = bad as CertificateName.CertificateName
        const error = yield* Effect.flip(storage.saveCertificate({ name: unchecked, ...files(1) }))
        expect(error.reason).toBe("InvalidName")
      }
    }))

  test("pending keys, accounts and checkpoints", (storage) =>
    Effect.gen(function*() {
      const reference = yield* storage.savePendingKey(CertificateName.make("site"), "run-1", "pending-key\n")
      expect(yield* storage.loadPendingKey(reference)).toEqual(Option.some("pending-key\n"))
      yield* storage.deletePendingKey(reference)
      expect(yield* storage.loadPendingKey(reference)).toEqual(Option.none())
      yield* storage.deletePendingKey(reference)
      expect((yield* Effect.flip(storage.loadPendingKey("pending/../x.key"))).reason).toBe("InvalidName")

      expect(yield* storage.loadAccount(directoryUrl, "default")).toEqual(Option.none())
      const info: Storage.AccountInfo = {
        url: "https://127.0.0.1:14000/my-account/1",
        directoryUrl,
        contact: ["mailto:ops@example.org"],
        createdAt: "2026-12-01T00:00:00.000Z",
        keyThumbprint: "thumb"
      }
      // the info belongs to a stored key
      yield* storage.saveAccountInfo(directoryUrl, "default", info)
      expect(yield* storage.loadAccount(directoryUrl, "default")).toEqual(Option.none())
      yield* storage.saveAccountKey(directoryUrl, "default", "account-key-1\n")
      expect(yield* storage.loadAccount(directoryUrl, "default")).toEqual(
        Option.some({ keyPem: "account-key-1\n", info: Option.none() })
      )
      yield* storage.saveAccountInfo(directoryUrl, "default", info)
      yield* storage.saveAccountKey(directoryUrl, "default", "account-key-2\n")
      expect(yield* storage.loadAccount(directoryUrl, "default")).toEqual(
        Option.some({ keyPem: "account-key-2\n", info: Option.some(info) })
      )
      expect(yield* storage.loadAccount("https://other.example/dir", "default")).toEqual(Option.none())

      const ids = ["2026-12-01T10-00-00.000Z-aaaa", "2026-12-01T11-00-00.000Z-bbbb", "2026-12-01T12-00-00.000Z-cccc"]
      yield* storage.saveCheckpoint(ids[2] ?? "", "{\"n\":3}")
      yield* storage.saveCheckpoint(ids[0] ?? "", "{\"n\":1}")
      yield* storage.saveCheckpoint(ids[1] ?? "", "{\"n\":0}")
      yield* storage.saveCheckpoint(ids[1] ?? "", "{\"n\":2}")
      expect(yield* storage.loadCheckpoints).toEqual([
        { runId: ids[0], json: "{\"n\":1}" },
        { runId: ids[1], json: "{\"n\":2}" },
        { runId: ids[2], json: "{\"n\":3}" }
      ])
      yield* storage.pruneCheckpoints(2)
      expect((yield* storage.loadCheckpoints).map((c) => c.runId)).toEqual([ids[1], ids[2]])
      yield* storage.pruneCheckpoints(0)
      expect(yield* storage.loadCheckpoints).toEqual([])
    }))

  test("a lease is granted with token 1, and shown until it ends", (storage) =>
    Effect.gen(function*() {
      expect(yield* storage.loadLease("site")).toEqual(Option.none())
      const lease = yield* acquire(storage, "site", holder(1))
      expect(lease.certificate).toBe("site")
      expect(lease.holder).toEqual(holder(1))
      expect(lease.token).toBe(1)
      expect(DateTime.toEpochMillis(lease.expiresAt)).toBe(start + 30_000)
      expect(yield* storage.loadLease("site")).toEqual(Option.some(lease))
      const other = yield* acquire(storage, "other", holder(2))
      expect(yield* storage.listLeases).toEqual([other, lease])
      yield* TestClock.adjust("30 seconds")
      expect(yield* storage.loadLease("site")).toEqual(Option.none())
      expect(yield* storage.listLeases).toEqual([])
      const error = yield* Effect.flip(acquire(storage, "../site", holder(1)))
      expect(error._tag === "StorageError" && error.reason).toBe("InvalidName")
    }))

  test("a live lease of another holder is Held: its holder and expiry are named", (storage) =>
    Effect.gen(function*() {
      const first = yield* acquire(storage, "site", holder(1))
      yield* TestClock.adjust("29 seconds")
      const error = yield* leaseError(acquire(storage, "site", holder(2, "host-b")))
      expect(error.reason).toBe("Held")
      expect(error.certificate).toBe("site")
      expect(error.holder).toEqual(holder(1))
      expect(error.expiresAt).toEqual(first.expiresAt)
      expect(error.message).toBe(
        "site is being renewed by run 2026-12-01T12-00-00.000Z-run1 (pid 1001 on host-a) (lease until " +
          "2026-12-01T12:00:30.000Z); it is left to that run: wait for it, or run again after the lease ends"
      )
      // a lease on another certificate is independent
      expect((yield* acquire(storage, "other", holder(2, "host-b"))).token).toBe(1)
      expect(yield* storage.loadLease("site")).toEqual(Option.some(first))
    }))

  test("an expired lease is taken over with the next token; the old holder has lost it", (storage) =>
    Effect.gen(function*() {
      const first = yield* acquire(storage, "site", holder(1))
      yield* TestClock.adjust("30 seconds")
      const second = yield* acquire(storage, "site", holder(2, "host-b"))
      expect(second.token).toBe(2)
      const error = yield* leaseError(storage.renewLease(first, ttl))
      expect(error.reason).toBe("Lost")
      expect(error.token).toBe(1)
      expect(error.currentToken).toBe(2)
      expect(error.holder).toEqual(holder(2, "host-b"))
      expect(error.message).toBe(
        "the lease on site (token 1) was lost: run 2026-12-01T12-00-00.000Z-run2 (pid 1002 on host-b) holds it now " +
          "(token 2); the write was refused so as not to overwrite the newer holder's work"
      )
      // releasing a lost lease does not disturb the new holder
      yield* storage.releaseLease(first)
      expect(yield* storage.loadLease("site")).toEqual(Option.some(second))
    }))

  test("renewing extends the lease from now, and keeps the others out", (storage) =>
    Effect.gen(function*() {
      const first = yield* acquire(storage, "site", holder(1))
      yield* TestClock.adjust("20 seconds")
      const renewed = yield* storage.renewLease(first, ttl)
      expect(renewed.token).toBe(1)
      expect(DateTime.toEpochMillis(renewed.expiresAt)).toBe(start + 50_000)
      yield* TestClock.adjust("20 seconds")
      expect((yield* leaseError(acquire(storage, "site", holder(2)))).reason).toBe("Held")
      // an expired lease that nobody took over may still be renewed
      yield* TestClock.adjust("15 seconds")
      const late = yield* storage.renewLease(first, ttl)
      expect(DateTime.toEpochMillis(late.expiresAt)).toBe(start + 85_000)
      expect((yield* leaseError(acquire(storage, "site", holder(2)))).reason).toBe("Held")
    }))

  test("releasing ends the lease at once; a released lease is neither renewed nor written with", (storage) =>
    Effect.gen(function*() {
      const first = yield* acquire(storage, "site", holder(1))
      yield* storage.releaseLease(first)
      yield* storage.releaseLease(first)
      expect(yield* storage.loadLease("site")).toEqual(Option.none())
      const renew = yield* leaseError(storage.renewLease(first, ttl))
      expect(renew.reason).toBe("Lost")
      expect(renew.message).toBe(
        "the lease on site (token 1) was lost: it was released; the write was refused so as not to overwrite the newer holder's work"
      )
      expect((yield* leaseError(storage.fenced(first).saveCertificate(files(1)))).reason).toBe("Lost")
      expect(yield* storage.loadCertificate(CertificateName.make("site"))).toEqual(Option.none())
      const second = yield* acquire(storage, "site", holder(2))
      expect(second.token).toBe(2)
      yield* storage.releaseLease(second)
      const stale = yield* leaseError(storage.fenced(first).savePendingKey("key\n"))
      expect(stale).toMatchObject({ reason: "Lost", token: 1, currentToken: 2 })
      expect(stale.holder).toBeUndefined()
      expect(stale.message).toMatch(/^the lease on site \(token 1\) was lost: a newer lease \(token 2\) was granted since;/)
    }))

  test("tokens grow with every grant of a certificate: after expiry, release, take-over and re-acquire", (storage) =>
    Effect.gen(function*() {
      const tokens: Array<number> = []
      const a = yield* acquire(storage, "site", holder(1))
      tokens.push(a.token)
      yield* TestClock.adjust("31 seconds")
      const b = yield* acquire(storage, "site", holder(2))
      tokens.push(b.token)
      yield* storage.releaseLease(b)
      const c = yield* acquire(storage, "site", holder(1))
      tokens.push(c.token)
      const d = yield* storage.acquireLease({ certificate: "site", holder: holder(3), ttl, takeOver: () => Effect.succeed(true) })
      tokens.push(d.token)
      // the same holder again: a new grant, its older lease lost
      const e = yield* acquire(storage, "site", holder(3))
      tokens.push(e.token)
      expect(tokens).toEqual([1, 2, 3, 4, 5])
      expect((yield* leaseError(storage.renewLease(d, ttl))).reason).toBe("Lost")
      expect((yield* storage.renewLease(e, ttl)).token).toBe(5)
      expect((yield* acquire(storage, "other", holder(1))).token).toBe(1)
    }))

  test("a request may take over a live lease when its predicate says so (a holder known to be gone)", (storage) =>
    Effect.gen(function*() {
      const first = yield* acquire(storage, "site", holder(1))
      const seen: Array<Lease.Lease> = []
      const refused = yield* leaseError(
        storage.acquireLease({
          certificate: "site",
          holder: holder(2),
          ttl,
          takeOver: (current) =>
            Effect.sync(() => {
              seen.push(current)
              return false
            })
        })
      )
      expect(refused.reason).toBe("Held")
      expect(seen).toEqual([first])
      const taken = yield* storage.acquireLease({
        certificate: "site",
        holder: holder(2),
        ttl,
        takeOver: (current) => Effect.succeed(current.holder.pid === 1001)
      })
      expect(taken.token).toBe(2)
      expect((yield* leaseError(storage.fenced(first).updateMetadata(metadata("01", "site")))).reason).toBe("Lost")
    }))

  test("a stale token is refused for every kind of write, and nothing of it is written", (storage) =>
    Effect.gen(function*() {
      const first = yield* acquire(storage, "site", holder(1))
      const a = storage.fenced(first)
      expect(a.lease).toEqual(first)
      yield* a.saveCertificate(files(1))
      const pendingA = yield* a.savePendingKey("key-a-1\n")
      yield* storage.saveRunCheckpoint({ holder: holder(1), json: "{\"a\":1}", lease: first })

      // paused past its expiry; another run takes the certificate over and stores its work
      yield* TestClock.adjust("31 seconds")
      const second = yield* acquire(storage, "site", holder(2, "host-b"))
      const b = storage.fenced(second)
      const pendingB = yield* b.savePendingKey("key-b\n")
      yield* b.saveCertificate(files(2))
      yield* b.updateMetadata({ ...metadata("02", "site"), certId: "by-b" })

      // the first holder wakes up: each of its writes is refused
      const refused = [
        yield* leaseError(a.saveCertificate(files(3))),
        yield* leaseError(a.updateMetadata(metadata("03", "site"))),
        yield* leaseError(a.savePendingKey("key-a-2\n")),
        yield* leaseError(a.deletePendingKey(pendingA)),
        yield* leaseError(a.deletePendingKey(pendingB)),
        yield* leaseError(storage.saveRunCheckpoint({ holder: holder(1), json: "{\"a\":2}", lease: first }))
      ]
      for (const error of refused) {
        expect(error.reason).toBe("Lost")
        expect(error.certificate).toBe("site")
        expect(error.token).toBe(1)
        expect(error.currentToken).toBe(2)
        expect(error.holder).toEqual(holder(2, "host-b"))
      }
      const stored = Option.getOrThrow(yield* storage.loadCertificate(CertificateName.make("site")))
      expect(stored.fullchainPem).toBe("fullchain-v2\n")
      expect(stored.metadata).toEqual({ ...metadata("02", "site"), certId: "by-b" })
      expect(yield* storage.loadCertificateKey(CertificateName.make("site"))).toEqual(Option.some("key-v2\n"))
      expect(yield* storage.loadPendingKey(pendingA)).toEqual(Option.some("key-a-1\n"))
      expect(yield* storage.loadPendingKey(pendingB)).toEqual(Option.some("key-b\n"))
      expect((yield* storage.loadCheckpoints).map((c) => c.json)).toEqual(["{\"a\":1}"])
      // the new holder may remove the key its predecessor left (it adopted that run's work)
      yield* b.deletePendingKey(pendingA)
      expect(yield* storage.loadPendingKey(pendingA)).toEqual(Option.none())
    }))

  test("the current lease writes, also past its expiry while nobody took it over", (storage) =>
    Effect.gen(function*() {
      const lease = yield* acquire(storage, "site", holder(1))
      yield* TestClock.adjust("45 seconds")
      const writes = storage.fenced(lease)
      const paths = yield* writes.saveCertificate(files(1))
      expect(paths).toEqual(storage.certificatePaths(CertificateName.make("site")))
      yield* writes.updateMetadata(metadata("07", "site"))
      const reference = yield* writes.savePendingKey("pending\n")
      expect(reference).toBe(`pending/site.${holder(1).runId}.key`)
      expect(yield* storage.loadPendingKey(reference)).toEqual(Option.some("pending\n"))
      yield* writes.deletePendingKey(reference)
      expect(yield* storage.loadPendingKey(reference)).toEqual(Option.none())
      expect(Option.map(yield* storage.loadCertificate(CertificateName.make("site")), (c) => c.metadata.serialNumber)).toEqual(
        Option.some("07")
      )
      // a lease fences its own certificate's pending keys only
      const other = yield* storage.savePendingKey(CertificateName.make("other"), "run-9", "other-key\n")
      expect((yield* Effect.flip(writes.deletePendingKey(other)))).toMatchObject({ reason: "InvalidName" })
      expect(yield* storage.loadPendingKey(other)).toEqual(Option.some("other-key\n"))
    }))

  test("a run's checkpoint belongs to its holder: another process cannot write it", (storage) =>
    Effect.gen(function*() {
      const owner = holder(1)
      yield* storage.saveRunCheckpoint({ holder: owner, json: "{\"step\":1}" })
      yield* storage.saveRunCheckpoint({ holder: owner, json: "{\"step\":2}" })
      yield* storage.saveCheckpoint("2026-12-01T09-00-00.000Z-old", "{\"old\":true}")
      expect(yield* storage.loadCheckpoints).toEqual([
        { runId: "2026-12-01T09-00-00.000Z-old", json: "{\"old\":true}" },
        { runId: owner.runId, json: "{\"step\":2}", holder: owner }
      ])
      const intruder = { ...owner, pid: 4242 }
      const error = yield* leaseError(storage.saveRunCheckpoint({ holder: intruder, json: "{\"step\":9}" }))
      expect(error.reason).toBe("RunOwned")
      expect(error.runId).toBe(owner.runId)
      expect(error.holder).toEqual(owner)
      expect(error.message).toBe(
        "the checkpoint of run 2026-12-01T12-00-00.000Z-run1 belongs to run 2026-12-01T12-00-00.000Z-run1 " +
          "(pid 1001 on host-a); a run never writes another run's checkpoint (start a new run instead)"
      )
      expect((yield* storage.loadCheckpoints).at(-1)?.json).toBe("{\"step\":2}")
    }))

  test("a change appended to a run's checkpoint follows it on a line of its own, until a whole checkpoint replaces both", (storage) =>
    Effect.gen(function*() {
      const owner = holder(1)
      const missing = yield* Effect.flip(storage.appendCheckpoint(owner.runId, "{\"change\":0}"))
      expect(missing).toMatchObject({ _tag: "StorageError", reason: "Io" })
      expect(missing.message).toContain("there is no checkpoint of this run to append to")
      expect(yield* storage.loadCheckpoints).toEqual([])

      yield* storage.saveRunCheckpoint({ holder: owner, json: "{\"step\":1}" })
      yield* storage.saveRunCheckpoint({ holder: owner, json: "{\"change\":1}", append: true })
      yield* storage.appendCheckpoint(owner.runId, "{\"change\":2}")
      expect(yield* storage.loadCheckpoints).toEqual([
        { runId: owner.runId, json: "{\"step\":1}\n{\"change\":1}\n{\"change\":2}", holder: owner }
      ])
      // another holder appends no more than it writes
      const intruder = { ...owner, pid: 4242 }
      const error = yield* leaseError(storage.saveRunCheckpoint({ holder: intruder, json: "{\"change\":9}", append: true }))
      expect(error.reason).toBe("RunOwned")
      expect(error.holder).toEqual(owner)

      yield* storage.saveRunCheckpoint({ holder: owner, json: "{\"step\":2}" })
      expect((yield* storage.loadCheckpoints).map((c) => c.json)).toEqual(["{\"step\":2}"])
    }))

  test("of holders racing for one certificate, exactly one gets it, also when they race to take it over", (storage) =>
    Effect.gen(function*() {
      const race = (round: number) =>
        Effect.gen(function*() {
          const attempts = yield* Effect.forEach(
            Array.from({ length: 8 }, (_, i) => holder(10 * round + i, `host-${i}`)),
            (who) => Effect.either(acquire(storage, "site", who)),
            { concurrency: "unbounded" }
          )
          const granted = attempts.filter(Either.isRight).map((a) => a.right)
          expect(granted).toHaveLength(1)
          for (const attempt of attempts.filter(Either.isLeft)) {
            expect(attempt.left).toMatchObject({ _tag: "LeaseError", reason: "Held", holder: granted[0]?.holder })
          }
          return granted[0]?.token
        })
      expect(yield* race(1)).toBe(1)
      yield* TestClock.adjust("31 seconds")
      expect(yield* race(2)).toBe(2)
    }))
}
