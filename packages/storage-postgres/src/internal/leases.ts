/**
 * Leases as rows of `acme_leases`, one per certificate that was ever leased (the row keeps the last
 * token after a release, so tokens only grow). Granting locks the row (`SELECT ... FOR UPDATE`);
 * a fenced write locks it for share (`FOR SHARE`) and checks the token in the same transaction as
 * the write, so a grant waits for a write in progress and a write never lands after a newer grant.
 * Renewing and releasing are one conditional `UPDATE` each.
 */
import { isLive, type Lease, LeaseError, type LeaseHolder, sameHolder } from "@acme/sdk/Lease"
import type { Leasing, StorageError } from "@acme/sdk/Storage"
import { checkLeaseKey, checkName } from "@acme/sdk/Storage"
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

interface LeaseRow {
  readonly certificate: string
  /** int8 arrives as a string */
  readonly token: string | number
  readonly holder_run_id: string
  readonly holder_host: string
  readonly holder_pid: number
  readonly expires_at: Date
  readonly released: boolean
}

const toLease = (row: LeaseRow): Lease => ({
  certificate: row.certificate,
  holder: { runId: row.holder_run_id, host: row.holder_host, pid: row.holder_pid },
  token: Number(row.token),
  expiresAt: DateTime.unsafeFromDate(row.expires_at)
})

const isHeld = (row: LeaseRow, now: DateTime.Utc): boolean => !row.released && isLive(toLease(row), now)

/** @internal */
export interface Leases {
  readonly acquireLease: (
    request: Parameters<Leasing["acquireLease"]>[0]
  ) => Effect.Effect<Lease, LeaseError | StorageError | SqlError>
  readonly renewLease: (
    lease: Lease,
    ttl: Parameters<Leasing["renewLease"]>[1]
  ) => Effect.Effect<Lease, LeaseError | SqlError>
  readonly releaseLease: (lease: Lease) => Effect.Effect<void, SqlError>
  readonly loadLease: (certificate: string) => Effect.Effect<Option.Option<Lease>, SqlError>
  readonly listLeases: Effect.Effect<ReadonlyArray<Lease>, SqlError>
  /** runs `write` in a transaction that first checks that `lease` is current */
  readonly fence: <A, E>(lease: Lease, write: Effect.Effect<A, E>) => Effect.Effect<A, E | LeaseError | SqlError>
}

/** @internal */
export const make = (sql: SqlClient.SqlClient): Leases => {
  const columns = sql`certificate, token, holder_run_id, holder_host, holder_pid, expires_at, released`

  const lost = (lease: Lease, row: LeaseRow | undefined, now: DateTime.Utc): LeaseError =>
    new LeaseError({
      reason: "Lost",
      certificate: lease.certificate,
      token: lease.token,
      ...(row === undefined
        ? {}
        : Number(row.token) !== lease.token && isHeld(row, now)
        ? { holder: toLease(row).holder, currentToken: Number(row.token) }
        : { currentToken: Number(row.token) })
    })

  const isCurrent = (lease: Lease, row: LeaseRow | undefined): boolean =>
    row !== undefined && !row.released && Number(row.token) === lease.token

  /** the row as it is now, to say why a lease is lost */
  const describeLost = (lease: Lease) =>
    Effect.gen(function*() {
      const rows = yield* sql<LeaseRow>`SELECT ${columns} FROM acme_leases WHERE certificate = ${lease.certificate}`
      return lost(lease, rows[0], yield* DateTime.now)
    })

  const acquireLease: Leases["acquireLease"] = (request) =>
    Effect.gen(function*() {
      yield* checkLeaseKey(request.certificate)
      yield* checkName(request.holder.runId)
      const now = yield* DateTime.now
      const holder: LeaseHolder = request.holder
      const expiresAt = DateTime.addDuration(now, request.ttl)
      return yield* sql.withTransaction(Effect.gen(function*() {
        // a row for every certificate ever leased: the first grant starts from token 0
        yield* sql`INSERT INTO acme_leases (${columns})
          VALUES (${request.certificate}, 0, '', '', 0, 'epoch', true)
          ON CONFLICT (certificate) DO NOTHING`
        const rows = yield* sql<LeaseRow>`SELECT ${columns} FROM acme_leases
          WHERE certificate = ${request.certificate} FOR UPDATE`
        const row = rows[0]
        const token = Number(row?.token ?? 0) + 1
        if (row !== undefined && isHeld(row, now)) {
          const current = toLease(row)
          if (
            !sameHolder(current.holder, holder) &&
            !(request.takeOver === undefined ? false : yield* request.takeOver(current))
          ) {
            return yield* new LeaseError({
              reason: "Held",
              certificate: request.certificate,
              holder: current.holder,
              expiresAt: current.expiresAt
            })
          }
        }
        yield* sql`UPDATE acme_leases SET token = ${token}, holder_run_id = ${holder.runId},
          holder_host = ${holder.host}, holder_pid = ${holder.pid},
          expires_at = ${DateTime.toDateUtc(expiresAt)}, released = false
          WHERE certificate = ${request.certificate}`
        return { certificate: request.certificate, holder, token, expiresAt } satisfies Lease
      }))
    })

  const renewLease: Leases["renewLease"] = (lease, ttl) =>
    Effect.gen(function*() {
      const expiresAt = DateTime.addDuration(yield* DateTime.now, ttl)
      const renewed = yield* sql<{ readonly token: string }>`UPDATE acme_leases
        SET expires_at = ${DateTime.toDateUtc(expiresAt)}
        WHERE certificate = ${lease.certificate} AND token = ${lease.token} AND NOT released
        RETURNING token`
      if (renewed.length === 0) return yield* Effect.flatMap(describeLost(lease), Effect.fail)
      return { ...lease, expiresAt }
    })

  const releaseLease: Leases["releaseLease"] = (lease) =>
    sql`UPDATE acme_leases SET released = true
      WHERE certificate = ${lease.certificate} AND token = ${lease.token} AND NOT released`.pipe(Effect.asVoid)

  const live = (certificate: Option.Option<string>) =>
    Effect.gen(function*() {
      const now = DateTime.toDateUtc(yield* DateTime.now)
      const rows = yield* Option.match(certificate, {
        onNone: () =>
          sql<LeaseRow>`SELECT ${columns} FROM acme_leases
            WHERE NOT released AND expires_at > ${now} ORDER BY certificate`,
        onSome: (name) =>
          sql<LeaseRow>`SELECT ${columns} FROM acme_leases
            WHERE certificate = ${name} AND NOT released AND expires_at > ${now}`
      })
      return rows.map(toLease)
    })

  const fence: Leases["fence"] = (lease, write) =>
    sql.withTransaction(Effect.gen(function*() {
      const rows = yield* sql<LeaseRow>`SELECT ${columns} FROM acme_leases
        WHERE certificate = ${lease.certificate} FOR SHARE`
      if (!isCurrent(lease, rows[0])) return yield* lost(lease, rows[0], yield* DateTime.now)
      return yield* write
    }))

  return {
    acquireLease,
    renewLease,
    releaseLease,
    loadLease: (certificate) => Effect.map(live(Option.some(certificate)), (leases) => Option.fromNullable(leases[0])),
    listLeases: live(Option.none()),
    fence
  }
}
