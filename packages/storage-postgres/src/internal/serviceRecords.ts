/**
 * The records of `acme serve` (`ServiceRecords.Store`) as rows of the tables of migration 3:
 *
 * - `acme_tasks`: one row per task, the task as JSON (`task`) with its id, status and creation time
 *   in columns; saving a task replaces its row.
 * - `acme_api_keys`: one row per API key: id, name, scope, the SHA-256 hash (hex) of the key (never
 *   the key), created and revoked times.
 * - `acme_audit`: the audit log, one row per entry in the order they were appended (`seq`). Rows are
 *   only ever inserted (a trigger refuses UPDATE, DELETE and TRUNCATE).
 *
 * Ids are checked as the file storage checks them (`ServiceRecords.isSafeId`: they end up in URLs).
 * Nothing here is secret, so nothing is encrypted.
 */
import { type ApiKey, type AuditEntry, checkId, isSafeId, type Store, Task } from "@acme/sdk/ServiceRecords"
import * as ServiceRecords from "@acme/sdk/ServiceRecords"
import type * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { corrupt, mapSqlError } from "./errors.js"

interface TaskRow {
  readonly task: unknown
}

interface ApiKeyRow {
  readonly id: string
  readonly name: string
  readonly scope: string
  readonly sha256: string
  readonly created_at: string
  readonly revoked_at: string | null
}

interface AuditRow {
  readonly time: string
  readonly actor: string
  readonly action: string
  readonly certificate: string | null
  readonly result: string
  readonly task: string | null
  readonly detail: string | null
}

/** the columns that are not NULL: an absent field stays absent */
const present = (row: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(row).filter(([, value]) => value !== null))

const orNull = <A>(value: A | undefined): A | null => value === undefined ? null : value

const describe = (error: ParseResult.ParseError): string =>
  ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) =>
    issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message
  )[0] ?? "does not match"

/** @internal */
export const make = (sql: SqlClient.SqlClient, location: string): Store => {
  const db = (what: string) => mapSqlError(location, what)
  const where = (what: string) => `${location} (${what})`

  const decode = <A, I>(schema: Schema.Schema<A, I>, value: unknown, what: string) =>
    Effect.mapError(Schema.decodeUnknown(schema)(value), (error) => corrupt(where(what), describe(error)))

  const decodeTask = (row: TaskRow) => decode(Task, row.task, "a task")
  const decodeKey = (row: ApiKeyRow) =>
    decode(
      ServiceRecords.ApiKey,
      present({
        id: row.id,
        name: row.name,
        scope: row.scope,
        sha256: row.sha256,
        createdAt: row.created_at,
        revokedAt: row.revoked_at
      }),
      `API key ${row.id}`
    )
  const decodeAudit = (row: AuditRow) =>
    decode(ServiceRecords.AuditEntry, present({ ...row }), "an audit entry")

  const encodeTask = (task: Task) =>
    Effect.mapError(
      Schema.encode(Task)(task),
      (error) => corrupt(where(`task ${task.id}`), `the task does not encode: ${describe(error)}`)
    )

  const saveTask: Store["saveTask"] = (task) =>
    Effect.gen(function*() {
      const id = yield* checkId(task.id, "task")
      const encoded = yield* encodeTask(task)
      yield* sql`INSERT INTO acme_tasks (id, status, created_at, task)
        VALUES (${id}, ${task.status}, ${task.createdAt}, ${JSON.stringify(encoded)}::jsonb)
        ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, created_at = EXCLUDED.created_at,
          task = EXCLUDED.task, saved_at = now()`
    }).pipe(db("saving a task"))

  const loadTask: Store["loadTask"] = (id) =>
    isSafeId(id)
      ? Effect.gen(function*() {
        const rows = yield* sql<TaskRow>`SELECT task FROM acme_tasks WHERE id = ${id}`
        const row = rows[0]
        return row === undefined ? Option.none() : Option.some(yield* decodeTask(row))
      }).pipe(db("loading a task"))
      : Effect.succeed(Option.none())

  const listTasks: Store["listTasks"] = Effect.gen(function*() {
    const rows = yield* sql<TaskRow>`SELECT task FROM acme_tasks
      ORDER BY created_at COLLATE "C", id COLLATE "C"`
    return yield* Effect.forEach(rows, decodeTask)
  }).pipe(db("listing tasks"))

  const deleteTask: Store["deleteTask"] = (id) =>
    Effect.flatMap(checkId(id, "task"), (safe) => sql`DELETE FROM acme_tasks WHERE id = ${safe}`).pipe(
      Effect.asVoid,
      db("deleting a task")
    )

  const saveApiKey: Store["saveApiKey"] = (key: ApiKey) =>
    Effect.flatMap(checkId(key.id, "API key"), (id) =>
      sql`INSERT INTO acme_api_keys (id, name, scope, sha256, created_at, revoked_at)
        VALUES (${id}, ${key.name}, ${key.scope}, ${key.sha256}, ${key.createdAt}, ${orNull(key.revokedAt)})
        ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, scope = EXCLUDED.scope, sha256 = EXCLUDED.sha256,
          created_at = EXCLUDED.created_at, revoked_at = EXCLUDED.revoked_at`).pipe(
        Effect.asVoid,
        db("saving an API key")
      )

  const listApiKeys: Store["listApiKeys"] = Effect.gen(function*() {
    const rows = yield* sql<ApiKeyRow>`SELECT id, name, scope, sha256, created_at, revoked_at FROM acme_api_keys
      ORDER BY created_at COLLATE "C", id COLLATE "C"`
    return yield* Effect.forEach(rows, decodeKey)
  }).pipe(db("listing API keys"))

  const appendAudit: Store["appendAudit"] = (entry: AuditEntry) =>
    sql`INSERT INTO acme_audit (time, actor, action, certificate, result, task, detail)
      VALUES (${entry.time}, ${entry.actor}, ${entry.action}, ${orNull(entry.certificate)}, ${entry.result},
        ${orNull(entry.task)}, ${orNull(entry.detail)})`.pipe(Effect.asVoid, db("appending to the audit log"))

  const readAudit: Store["readAudit"] = (since) =>
    Effect.gen(function*() {
      const columns = sql`time, actor, action, certificate, result, task, detail`
      const rows = since === undefined
        ? yield* sql<AuditRow>`SELECT ${columns} FROM acme_audit ORDER BY seq`
        : yield* sql<AuditRow>`SELECT ${columns} FROM acme_audit WHERE time COLLATE "C" >= ${since} ORDER BY seq`
      return yield* Effect.forEach(rows, decodeAudit)
    }).pipe(db("reading the audit log"))

  return { saveTask, loadTask, listTasks, deleteTask, saveApiKey, listApiKeys, appendAudit, readAudit }
}
