/**
 * The records of a service (`ServiceRecords.Store`) in the storage folder:
 *
 * ```
 * <root>/server/tasks/<task id>.json      one file per task, replaced atomically
 * <root>/server/apikeys/<key id>.json     one file per API key (its hash, never the key)
 * <root>/server/audit.jsonl               the audit log: one JSON object per line, appended
 * ```
 *
 * Folders are 0700 and files 0600. Every task and key file is written with the file storage's own
 * atomic write (a temp file in its folder created 0600, fsynced, renamed over its name, the folder
 * fsynced); an audit line is appended in one write and fsynced. A line cut
 * short by a crash (the last one, without its newline) is ignored when the log is read.
 *
 * @since 0.1.0
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { ApiKey, AuditEntry, checkId, isSafeId, sortByCreation, type Store, Task } from "./ServiceRecords.js"
import { makeFiles } from "./internal/fileStorage/files.js"
import { isNotFound, storageError } from "./internal/fileStorage/errors.js"
import { StorageError } from "./StorageError.js"

const folderMode = 0o700
const fileMode = 0o600

/**
 * Records in the folder `root` (the storage folder; they go under `<root>/server`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (root: string): Effect.Effect<Store, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const files = makeFiles(fs, path)
    const base = path.join(root, "server")
    const tasksFolder = path.join(base, "tasks")
    const keysFolder = path.join(base, "apikeys")
    const auditFile = path.join(base, "audit.jsonl")

    const ensureFolder = (folder: string) =>
      fs.makeDirectory(folder, { recursive: true, mode: folderMode }).pipe(Effect.mapError(storageError(folder)))

    /** the file storage's own atomic write: temp file created 0600, fsync, rename, fsync the folder */
    const writeAtomically = (file: string, text: string): Effect.Effect<void, StorageError> =>
      Effect.zipRight(ensureFolder(path.dirname(file)), files.writeAtomic(file, text, fileMode))

    const readJson = <A, I>(schema: Schema.Schema<A, I>, file: string): Effect.Effect<Option.Option<A>, StorageError> =>
      fs.readFileString(file).pipe(
        Effect.map(Option.some),
        Effect.catchIf(isNotFound, () => Effect.succeed(Option.none<string>())),
        Effect.mapError(storageError(file)),
        Effect.flatMap(Option.match({
          onNone: () => Effect.succeed(Option.none<A>()),
          onSome: (text) =>
            Schema.decodeUnknown(Schema.parseJson(schema))(text).pipe(
              Effect.map(Option.some),
              Effect.mapError(() =>
                new StorageError({ reason: "Corrupt", path: file, description: "it is not a record this version can read" })
              )
            )
        }))
      )

    const readAll = <A, I>(schema: Schema.Schema<A, I>, folder: string): Effect.Effect<Array<A>, StorageError> =>
      fs.readDirectory(folder).pipe(
        Effect.catchIf(isNotFound, () => Effect.succeed<Array<string>>([])),
        Effect.mapError(storageError(folder)),
        Effect.flatMap((names) =>
          Effect.forEach(
            names.filter((name) => name.endsWith(".json") && !name.startsWith(".")),
            (name) => readJson(schema, path.join(folder, name)),
            { concurrency: 8 }
          )
        ),
        Effect.map((found) => found.flatMap(Option.toArray))
      )

    const encodeTask = Schema.encodeSync(Task)
    const encodeKey = Schema.encodeSync(ApiKey)
    const encodeAudit = Schema.encodeSync(AuditEntry)
    const decodeAuditLine = Schema.decodeUnknownOption(Schema.parseJson(AuditEntry))

    const store: Store = {
      saveTask: (task) =>
        Effect.flatMap(
          checkId(task.id, "task"),
          (id) => writeAtomically(path.join(tasksFolder, `${id}.json`), `${JSON.stringify(encodeTask(task), null, 2)}\n`)
        ),
      loadTask: (id) =>
        isSafeId(id) ? readJson(Task, path.join(tasksFolder, `${id}.json`)) : Effect.succeed(Option.none()),
      listTasks: Effect.map(readAll(Task, tasksFolder), sortByCreation),
      deleteTask: (id) =>
        Effect.flatMap(checkId(id, "task"), (safe) => {
          const file = path.join(tasksFolder, `${safe}.json`)
          return fs.remove(file).pipe(Effect.catchIf(isNotFound, () => Effect.void), Effect.mapError(storageError(file)))
        }),
      saveApiKey: (key) =>
        Effect.flatMap(
          checkId(key.id, "API key"),
          (id) => writeAtomically(path.join(keysFolder, `${id}.json`), `${JSON.stringify(encodeKey(key), null, 2)}\n`)
        ),
      listApiKeys: Effect.map(readAll(ApiKey, keysFolder), sortByCreation),
      appendAudit: (entry) =>
        Effect.gen(function*() {
          yield* ensureFolder(base)
          const line = new TextEncoder().encode(`${JSON.stringify(encodeAudit(entry))}\n`)
          yield* Effect.scoped(Effect.gen(function*() {
            const handle = yield* fs.open(auditFile, { flag: "a", mode: fileMode })
            yield* handle.writeAll(line)
            yield* handle.sync
          })).pipe(Effect.mapError(storageError(auditFile)))
        }),
      readAudit: (since) =>
        fs.readFileString(auditFile).pipe(
          Effect.catchIf(isNotFound, () => Effect.succeed("")),
          Effect.mapError(storageError(auditFile)),
          Effect.flatMap((text) => {
            const lines = text.split("\n")
            // the text after the last newline is a line a crash cut short (or nothing)
            const complete = lines.slice(0, -1).filter((line) => line.trim().length > 0)
            const entries: Array<AuditEntry> = []
            for (const [index, line] of complete.entries()) {
              const entry = decodeAuditLine(line)
              if (Option.isNone(entry)) {
                return Effect.fail(
                  new StorageError({ reason: "Corrupt", path: auditFile, description: `line ${index + 1} is not an audit entry` })
                )
              }
              if (since === undefined || entry.value.time >= since) entries.push(entry.value)
            }
            return Effect.succeed(entries)
          })
        )
    }
    return store
  })
