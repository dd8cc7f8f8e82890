/**
 * Leases kept in this process, around a storage's records: the memory storage's leases. One lock
 * serialises every lease operation and every fenced write, so that "check the token, then write"
 * is one step.
 */
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import { isLive, type Lease, LeaseError, type LeaseHolder, sameHolder } from "../Lease.js"
import { StorageError } from "../StorageError.js"
import { checkName } from "./storage/names.js"
import type { FencedWrites, Leasing, Records, Service } from "./storage/service.js"

interface Entry {
  /** the last lease granted */
  readonly lease: Lease
  readonly released: boolean
}

interface State {
  readonly leases: ReadonlyMap<string, Entry>
  /** run id -> the holder that owns its checkpoint */
  readonly owners: ReadonlyMap<string, LeaseHolder>
}

const isHeld = (entry: Entry, now: DateTime.Utc): boolean => !entry.released && isLive(entry.lease, now)

const isCurrent = (entry: Entry | undefined, lease: Lease): boolean =>
  entry !== undefined && !entry.released && entry.lease.token === lease.token

/** `Lost` for `lease`: the current token, and the newer holder when it holds a live lease */
const lost = (lease: Lease, current: Option.Option<Entry>, now: DateTime.Utc): LeaseError =>
  new LeaseError({
    reason: "Lost",
    certificate: lease.certificate,
    token: lease.token,
    ...Option.match(current, {
      onNone: () => ({}),
      onSome: (entry) =>
        entry.lease.token !== lease.token && isHeld(entry, now)
          ? { holder: entry.lease.holder, currentToken: entry.lease.token }
          : { currentToken: entry.lease.token }
    })
  })

/** @internal */
export const make = (records: Records): Effect.Effect<Service> =>
  Effect.gen(function*() {
    const state = yield* Ref.make<State>({ leases: new Map(), owners: new Map() })
    const lock = yield* Effect.makeSemaphore(1)
    const locked = lock.withPermits(1)

    const setEntry = (certificate: string, entry: Entry) =>
      Ref.update(state, (s) => ({ ...s, leases: new Map(s.leases).set(certificate, entry) }))

    /** fails with Lost unless `lease` is current; call under the lock */
    const check = (lease: Lease) =>
      Effect.gen(function*() {
        const entry = (yield* Ref.get(state)).leases.get(lease.certificate)
        if (isCurrent(entry, lease)) return
        return yield* lost(lease, Option.fromNullable(entry), yield* DateTime.now)
      })

    const fence = <A, E>(lease: Lease, write: Effect.Effect<A, E>): Effect.Effect<A, E | LeaseError> =>
      locked(Effect.zipRight(check(lease), write))

    const acquireLease: Leasing["acquireLease"] = (request) =>
      locked(Effect.gen(function*() {
        yield* checkName(request.certificate)
        yield* checkName(request.holder.runId)
        const now = yield* DateTime.now
        const entry = (yield* Ref.get(state)).leases.get(request.certificate)
        if (
          entry !== undefined && isHeld(entry, now) && !sameHolder(entry.lease.holder, request.holder) &&
          !(request.takeOver?.(entry.lease) ?? false)
        ) {
          return yield* new LeaseError({
            reason: "Held",
            certificate: request.certificate,
            holder: entry.lease.holder,
            expiresAt: entry.lease.expiresAt
          })
        }
        const lease: Lease = {
          certificate: request.certificate,
          holder: request.holder,
          token: (entry?.lease.token ?? 0) + 1,
          expiresAt: DateTime.addDuration(now, request.ttl)
        }
        yield* setEntry(request.certificate, { lease, released: false })
        return lease
      }))

    const renewLease: Leasing["renewLease"] = (lease, ttl) =>
      locked(Effect.gen(function*() {
        yield* check(lease)
        const renewed: Lease = { ...lease, expiresAt: DateTime.addDuration(yield* DateTime.now, ttl) }
        yield* setEntry(lease.certificate, { lease: renewed, released: false })
        return renewed
      }))

    const releaseLease: Leasing["releaseLease"] = (lease) =>
      locked(Effect.gen(function*() {
        const entry = (yield* Ref.get(state)).leases.get(lease.certificate)
        if (entry !== undefined && isCurrent(entry, lease)) yield* setEntry(lease.certificate, { ...entry, released: true })
      }))

    const liveLeases = Effect.gen(function*() {
      const now = yield* DateTime.now
      return [...(yield* Ref.get(state)).leases.values()]
        .filter((entry) => isHeld(entry, now))
        .map((entry) => entry.lease)
        .sort((a, b) => a.certificate < b.certificate ? -1 : a.certificate > b.certificate ? 1 : 0)
    })

    const fenced = (lease: Lease): FencedWrites => ({
      lease,
      saveCertificate: (files) => fence(lease, records.saveCertificate({ name: lease.certificate, ...files })),
      updateMetadata: (metadata) => fence(lease, records.updateMetadata(lease.certificate, metadata)),
      savePendingKey: (keyPem) => fence(lease, records.savePendingKey(lease.certificate, lease.holder.runId, keyPem)),
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

    const saveRunCheckpoint: Leasing["saveRunCheckpoint"] = ({ holder, json, lease }) =>
      locked(Effect.gen(function*() {
        yield* checkName(holder.runId)
        if (lease !== undefined) yield* check(lease)
        const owner = (yield* Ref.get(state)).owners.get(holder.runId)
        if (owner !== undefined && !sameHolder(owner, holder)) {
          return yield* new LeaseError({ reason: "RunOwned", runId: holder.runId, holder: owner })
        }
        yield* records.saveCheckpoint(holder.runId, json)
        yield* Ref.update(state, (s) => ({ ...s, owners: new Map(s.owners).set(holder.runId, holder) }))
      }))

    const loadCheckpoints: Service["loadCheckpoints"] = Effect.gen(function*() {
      const checkpoints = yield* records.loadCheckpoints
      const owners = (yield* Ref.get(state)).owners
      return checkpoints.map(({ json, runId }) => {
        const holder = owners.get(runId)
        return holder === undefined ? { runId, json } : { runId, json, holder }
      })
    })

    const pruneCheckpoints: Service["pruneCheckpoints"] = (keep) =>
      locked(Effect.gen(function*() {
        yield* records.pruneCheckpoints(keep)
        const kept = new Set((yield* records.loadCheckpoints).map((checkpoint) => checkpoint.runId))
        yield* Ref.update(state, (s) => ({
          ...s,
          owners: new Map([...s.owners].filter(([runId]) => kept.has(runId)))
        }))
      }))

    return {
      ...records,
      loadCheckpoints,
      pruneCheckpoints,
      acquireLease,
      renewLease,
      releaseLease,
      loadLease: (certificate) =>
        Effect.map(liveLeases, (leases) => Option.fromNullable(leases.find((l) => l.certificate === certificate))),
      listLeases: liveLeases,
      fenced,
      saveRunCheckpoint
    }
  })
