/**
 * What a long-running service (`acme serve`) keeps besides certificates: the tasks it was asked to
 * run, the API keys that may ask (their hashes only), and an append-only audit log. A `Storage`
 * that keeps them offers this `Store` as its `records`; the memory and file system Layers do.
 *
 * Nothing here is secret: an API key is stored as the SHA-256 hash of a 256-bit random key, and a
 * task holds the run report, which never carries key material.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import { CertificateName } from "./CertificateName.js"
import { LeaseHolder } from "./Lease.js"
import { RunReport } from "./Reporter.js"
import { RevocationReason } from "./RevocationReason.js"
import { StorageError } from "./StorageError.js"

/**
 * @since 0.1.0
 * @category schemas
 */
export const TaskStatus = Schema.Literal("queued", "running", "succeeded", "failed")

/**
 * @since 0.1.0
 * @category models
 */
export type TaskStatus = typeof TaskStatus.Type

/**
 * A renewal or revocation someone asked for, and what came of it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Task = Schema.Struct({
  id: Schema.String,
  action: Schema.Literal("renew", "revoke"),
  /** the certificate; absent for a scheduled renewal of every certificate that is due */
  certificate: Schema.optional(CertificateName),
  /** renew even when not due */
  force: Schema.optional(Schema.Boolean),
  /** the revocation reason */
  reason: Schema.optional(RevocationReason),
  status: TaskStatus,
  /** who asked: an API key id, `scheduler` or `cli` */
  requestedBy: Schema.String,
  /**
   * the server instance that runs it, or ran it last (`runId` is the instance's id): it holds the
   * task's lease (`Lease.runKey("task." + id)`) from the moment it queues or takes over the task
   * until the task is done; another server takes a queued or running task over only once that
   * lease has ended
   */
  holder: Schema.optional(LeaseHolder),
  createdAt: Schema.String,
  startedAt: Schema.optional(Schema.String),
  finishedAt: Schema.optional(Schema.String),
  /** the run's report, once it finished */
  result: Schema.optional(RunReport),
  /** why it failed: the failed certificate's error, or the run's */
  error: Schema.optional(Schema.Struct({ type: Schema.String, message: Schema.String }))
})

/**
 * @since 0.1.0
 * @category models
 */
export type Task = typeof Task.Type

/**
 * @since 0.1.0
 * @category schemas
 */
export const ApiKeyScope = Schema.Literal("read", "write")

/**
 * @since 0.1.0
 * @category models
 */
export type ApiKeyScope = typeof ApiKeyScope.Type

/**
 * An API key as stored: never the key, only its SHA-256 hash (hex).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ApiKey = Schema.Struct({
  id: Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_-]{1,64}$/)),
  name: Schema.String,
  scope: ApiKeyScope,
  sha256: Schema.String.pipe(Schema.pattern(/^[0-9a-f]{64}$/)),
  createdAt: Schema.String,
  revokedAt: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export type ApiKey = typeof ApiKey.Type

/**
 * One line of the audit log.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AuditEntry = Schema.Struct({
  time: Schema.String,
  /** an API key id, `scheduler` or `cli` */
  actor: Schema.String,
  /** e.g. `renew`, `revoke`, `apikey.create`, `apikey.revoke` */
  action: Schema.String,
  certificate: Schema.optional(Schema.String),
  /** e.g. `queued`, `renewed`, `skipped`, `failed`, `revoked`, `created` */
  result: Schema.String,
  task: Schema.optional(Schema.String),
  detail: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export type AuditEntry = typeof AuditEntry.Type

/**
 * The records of a service, as a `Storage` keeps them.
 *
 * @since 0.1.0
 * @category models
 */
export interface Store {
  /** creates or replaces a task (by id) */
  readonly saveTask: (task: Task) => Effect.Effect<void, StorageError>
  readonly loadTask: (id: string) => Effect.Effect<Option.Option<Task>, StorageError>
  /** every task, oldest first */
  readonly listTasks: Effect.Effect<ReadonlyArray<Task>, StorageError>
  readonly deleteTask: (id: string) => Effect.Effect<void, StorageError>
  /** creates or replaces an API key (by id); revoking one saves it with `revokedAt` */
  readonly saveApiKey: (key: ApiKey) => Effect.Effect<void, StorageError>
  /** every API key, revoked ones included, oldest first */
  readonly listApiKeys: Effect.Effect<ReadonlyArray<ApiKey>, StorageError>
  /** appends a line to the audit log; lines are never changed or removed */
  readonly appendAudit: (entry: AuditEntry) => Effect.Effect<void, StorageError>
  /** the audit log from `since` (ISO time, inclusive) on, oldest first */
  readonly readAudit: (since?: string | undefined) => Effect.Effect<ReadonlyArray<AuditEntry>, StorageError>
}

/**
 * Whether a task or API key id may be used as a file name and in a URL.
 *
 * @since 0.1.0
 * @category guards
 */
export const isSafeId = (id: string): boolean => /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/.test(id) && !id.includes("..")

/**
 * Fails with `InvalidName` unless {@link isSafeId}: every store checks the ids it saves.
 *
 * @since 0.1.0
 * @category combinators
 */
export const checkId = (id: string, what: string): Effect.Effect<string, StorageError> =>
  isSafeId(id)
    ? Effect.succeed(id)
    : Effect.fail(new StorageError({ reason: "InvalidName", path: id, description: `"${id}" is not a valid ${what} id` }))

const byCreation = <A extends { readonly createdAt: string; readonly id: string }>(a: A, b: A): number =>
  a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0

/**
 * Sorts tasks or keys oldest first (ties by id).
 *
 * @since 0.1.0
 * @category combinators
 */
export const sortByCreation = <A extends { readonly createdAt: string; readonly id: string }>(
  items: ReadonlyArray<A>
): ReadonlyArray<A> => [...items].sort(byCreation)

interface MemoryState {
  readonly tasks: ReadonlyMap<string, Task>
  readonly keys: ReadonlyMap<string, ApiKey>
  readonly audit: ReadonlyArray<AuditEntry>
}

/**
 * Records in memory (for `Storage.layerMemory`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory = (): Store => {
  const ref = Ref.unsafeMake<MemoryState>({ tasks: new Map(), keys: new Map(), audit: [] })
  const update = (f: (state: MemoryState) => MemoryState) => Ref.update(ref, f)
  return {
    saveTask: (task) =>
      Effect.zipRight(
        checkId(task.id, "task"),
        update((state) => ({ ...state, tasks: new Map(state.tasks).set(task.id, task) }))
      ),
    loadTask: (id) => Effect.map(Ref.get(ref), (state) => Option.fromNullable(state.tasks.get(id))),
    listTasks: Effect.map(Ref.get(ref), (state) => sortByCreation([...state.tasks.values()])),
    deleteTask: (id) =>
      Effect.zipRight(
        checkId(id, "task"),
        update((state) => {
          const tasks = new Map(state.tasks)
          tasks.delete(id)
          return { ...state, tasks }
        })
      ),
    saveApiKey: (key) =>
      Effect.zipRight(
        checkId(key.id, "API key"),
        update((state) => ({ ...state, keys: new Map(state.keys).set(key.id, key) }))
      ),
    listApiKeys: Effect.map(Ref.get(ref), (state) => sortByCreation([...state.keys.values()])),
    appendAudit: (entry) => update((state) => ({ ...state, audit: [...state.audit, entry] })),
    readAudit: (since) =>
      Effect.map(Ref.get(ref), (state) => since === undefined ? state.audit : state.audit.filter((e) => e.time >= since))
  }
}
