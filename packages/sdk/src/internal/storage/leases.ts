/**
 * The lease rules of the `Lease` module, once, over a table of lease records: the memory storage
 * keeps its table in a `Ref`, the file system storage in files under its root (with a lock file
 * that holds across processes). Everything that checks a token and then writes runs inside the
 * table's `exclusive`, so that "check, then write" is one step for every process sharing the table.
 *
 * A record is the last lease granted on a key and whether it was released; it stays after the
 * release, so the next grant's token is always the previous one + 1.
 */
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { isLive, Lease, LeaseError, type LeaseHolder, sameHolder } from "../../Lease.js"
import { StorageError } from "../../StorageError.js"
import { checkLeaseKey, checkName } from "./names.js"
import type { FencedWrites, Leasing, Records, Service } from "./service.js"

/**
 * The record of a key: the last lease granted on it, and whether it was released.
 *
 * @internal
 */
export const LeaseRecord = Schema.Struct({
  lease: Lease,
  released: Schema.Boolean
})

/** @internal */
export type LeaseRecord = typeof LeaseRecord.Type

/**
 * Where a storage keeps its lease records and the owners of its run checkpoints.
 *
 * @internal
 */
export interface LeaseTable {
  /** runs `effect` while no other `exclusive` of this table runs, in any process sharing it */
  readonly exclusive: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | StorageError, R>
  readonly read: (key: string) => Effect.Effect<Option.Option<LeaseRecord>, StorageError>
  readonly write: (record: LeaseRecord) => Effect.Effect<void, StorageError>
  readonly list: Effect.Effect<ReadonlyArray<LeaseRecord>, StorageError>
  /** run id -> the holder that owns its checkpoint */
  readonly owners: Effect.Effect<ReadonlyMap<string, LeaseHolder>, StorageError>
  /** the holder that owns one run's checkpoint (what `owners` has for it, without listing the others) */
  readonly owner: (runId: string) => Effect.Effect<Option.Option<LeaseHolder>, StorageError>
  readonly setOwner: (runId: string, holder: LeaseHolder) => Effect.Effect<void, StorageError>
  readonly removeOwner: (runId: string) => Effect.Effect<void, StorageError>
}

const isHeld = (record: LeaseRecord, now: DateTime.Utc): boolean => !record.released && isLive(record.lease, now)

const isCurrent = (record: Option.Option<LeaseRecord>, lease: Lease): boolean =>
  Option.exists(record, (r) => !r.released && r.lease.token === lease.token)

/** `Lost` for `lease`: the current token, and the newer holder when it holds a live lease */
const lost = (lease: Lease, current: Option.Option<LeaseRecord>, now: DateTime.Utc): LeaseError =>
  new LeaseError({
    reason: "Lost",
    certificate: lease.certificate,
    token: lease.token,
    ...Option.match(current, {
      onNone: () => ({}),
      onSome: (record) =>
        record.lease.token !== lease.token && isHeld(record, now)
          ? { holder: record.lease.holder, currentToken: record.lease.token }
          : { currentToken: record.lease.token }
    })
  })

const byKey = (a: Lease, b: Lease) => a.certificate < b.certificate ? -1 : a.certificate > b.certificate ? 1 : 0

/**
 * The whole service: the records, and leases over the table that fence the records' writes.
 *
 * @internal
 */
export const make = (records: Records, table: LeaseTable): Service => {
  /** fails with Lost unless `lease` is current; call inside `exclusive` */
  const check = (lease: Lease) =>
    Effect.gen(function*() {
      const record = yield* table.read(lease.certificate)
      if (!isCurrent(record, lease)) return yield* lost(lease, record, yield* DateTime.now)
    })

  const fence = <A, E>(lease: Lease, write: Effect.Effect<A, E>): Effect.Effect<A, E | StorageError | LeaseError> =>
    table.exclusive(Effect.zipRight(check(lease), write))

  const acquireLease: Leasing["acquireLease"] = (request) =>
    Effect.gen(function*() {
      yield* checkLeaseKey(request.certificate)
      yield* checkName(request.holder.runId)
      return yield* table.exclusive(Effect.gen(function*() {
        const now = yield* DateTime.now
        const record = Option.getOrUndefined(yield* table.read(request.certificate))
        if (
          record !== undefined && isHeld(record, now) && !sameHolder(record.lease.holder, request.holder) &&
          !(request.takeOver === undefined ? false : yield* request.takeOver(record.lease))
        ) {
          return yield* new LeaseError({
            reason: "Held",
            certificate: request.certificate,
            holder: record.lease.holder,
            expiresAt: record.lease.expiresAt
          })
        }
        const lease: Lease = {
          certificate: request.certificate,
          holder: request.holder,
          token: (record?.lease.token ?? 0) + 1,
          expiresAt: DateTime.addDuration(now, request.ttl)
        }
        yield* table.write({ lease, released: false })
        return lease
      }))
    })

  const renewLease: Leasing["renewLease"] = (lease, ttl) =>
    table.exclusive(Effect.gen(function*() {
      yield* check(lease)
      const renewed: Lease = { ...lease, expiresAt: DateTime.addDuration(yield* DateTime.now, ttl) }
      yield* table.write({ lease: renewed, released: false })
      return renewed
    }))

  const releaseLease: Leasing["releaseLease"] = (lease) =>
    table.exclusive(Effect.gen(function*() {
      const record = yield* table.read(lease.certificate)
      if (Option.isSome(record) && isCurrent(record, lease)) yield* table.write({ ...record.value, released: true })
    }))

  const liveLeases = Effect.gen(function*() {
    const now = yield* DateTime.now
    return (yield* table.list).filter((record) => isHeld(record, now)).map((record) => record.lease).sort(byKey)
  })

  const fenced = (lease: Lease): FencedWrites => ({
    lease,
    // a lease's key is a certificate's name here (checked again, as every write checks it)
    saveCertificate: (files) =>
      Effect.flatMap(checkName(lease.certificate), (name) => fence(lease, records.saveCertificate({ name, ...files }))),
    updateMetadata: (metadata) =>
      Effect.flatMap(checkName(lease.certificate), (name) => fence(lease, records.updateMetadata(name, metadata))),
    savePendingKey: (keyPem) =>
      Effect.flatMap(
        checkName(lease.certificate),
        (name) => fence(lease, records.savePendingKey(name, lease.holder.runId, keyPem))
      ),
    deletePendingKey: (reference) =>
      // the reference names its certificate: `pending/<name>.<run id>.key`
      reference.startsWith(`pending/${lease.certificate}.`)
        ? fence(lease, records.deletePendingKey(reference))
        : Effect.fail(
          new StorageError({
            reason: "InvalidName",
            path: reference,
            description: `"${reference}" is not a pending key of ${lease.certificate}`
          })
        )
  })

  const saveRunCheckpoint: Leasing["saveRunCheckpoint"] = ({ append, holder, json, lease, replaces }) =>
    Effect.zipRight(
      checkName(holder.runId),
      table.exclusive(Effect.gen(function*() {
        if (lease !== undefined) yield* check(lease)
        const owner = Option.getOrUndefined(yield* table.owner(holder.runId))
        if (owner !== undefined && !sameHolder(owner, holder) && !(replaces !== undefined && sameHolder(owner, replaces))) {
          return yield* new LeaseError({ reason: "RunOwned", runId: holder.runId, holder: owner })
        }
        yield* append === true ? records.appendCheckpoint(holder.runId, json) : records.saveCheckpoint(holder.runId, json)
        if (owner === undefined || !sameHolder(owner, holder)) yield* table.setOwner(holder.runId, holder)
      }))
    )

  const loadCheckpoints: Records["loadCheckpoints"] = Effect.gen(function*() {
    const checkpoints = yield* records.loadCheckpoints
    const owners = yield* table.owners
    return checkpoints.map(({ json, runId }) => {
      const holder = owners.get(runId)
      return holder === undefined ? { runId, json } : { runId, json, holder }
    })
  })

  const pruneCheckpoints: Records["pruneCheckpoints"] = (keep) =>
    table.exclusive(Effect.gen(function*() {
      yield* records.pruneCheckpoints(keep)
      const kept = new Set((yield* records.loadCheckpoints).map((checkpoint) => checkpoint.runId))
      for (const runId of (yield* table.owners).keys()) {
        if (!kept.has(runId)) yield* table.removeOwner(runId)
      }
    }))

  return {
    ...records,
    loadCheckpoints,
    pruneCheckpoints,
    acquireLease,
    renewLease,
    releaseLease,
    loadLease: (key) =>
      Effect.zipRight(
        checkLeaseKey(key),
        Effect.map(liveLeases, (leases) => Option.fromNullable(leases.find((l) => l.certificate === key)))
      ),
    listLeases: liveLeases,
    fenced,
    saveRunCheckpoint
  }
}

/**
 * A lease table in this process only (the memory storage's).
 *
 * @internal
 */
export const makeMemoryTable: Effect.Effect<LeaseTable> = Effect.gen(function*() {
  const leases = new Map<string, LeaseRecord>()
  const owners = new Map<string, LeaseHolder>()
  const lock = yield* Effect.makeSemaphore(1)
  return {
    exclusive: lock.withPermits(1),
    read: (key) => Effect.sync(() => Option.fromNullable(leases.get(key))),
    write: (record) => Effect.sync(() => void leases.set(record.lease.certificate, record)),
    list: Effect.sync(() => [...leases.values()]),
    owners: Effect.sync(() => new Map(owners)),
    owner: (runId) => Effect.sync(() => Option.fromNullable(owners.get(runId))),
    setOwner: (runId, holder) => Effect.sync(() => void owners.set(runId, holder)),
    removeOwner: (runId) => Effect.sync(() => void owners.delete(runId))
  }
})
