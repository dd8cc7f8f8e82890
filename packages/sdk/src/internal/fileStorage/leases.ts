/**
 * The lease table of the file system storage, in files that every process of this host sharing the
 * folder sees:
 *
 * ```
 * <root>/leases/<key>.json     the last lease granted on a certificate (or a run: @run.<run id>),
 *                              and whether it was released; kept after the release (the token)
 * <root>/leases/.lock          the lock (lock.ts) held while a token is checked and written to
 * <root>/runs/<run id>.owner   the holder that owns a run's checkpoint
 * ```
 *
 * Records are written atomically (temp, fsync, rename) and only while the lock is held; they are
 * read without it (a reader sees a whole record).
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { LeaseHolder } from "../../Lease.js"
import type { StorageError } from "../../StorageError.js"
import { type LeaseRecord, LeaseRecord as LeaseRecordSchema, type LeaseTable } from "../storage/leases.js"
import { isNotFound, storageError } from "./errors.js"
import { type Files, publicMode } from "./files.js"
import type { Layout } from "./layout.js"
import { makeLock } from "./lock.js"

const RecordJson = Schema.parseJson(Schema.Struct({ version: Schema.Literal(1), ...LeaseRecordSchema.fields }), {
  space: 2
})
const OwnerJson = Schema.parseJson(LeaseHolder, { space: 2 })

const recordSuffix = ".json"
const ownerSuffix = ".owner"

/** @internal */
export const makeLeaseTable = (files: Files, layout: Layout): Effect.Effect<LeaseTable> =>
  Effect.gen(function*() {
    const { fs, path } = files
    const lock = yield* makeLock(files, path.join(layout.leasesRoot, ".lock"))

    const recordFile = (key: string) => path.join(layout.leasesRoot, `${key}${recordSuffix}`)
    const ownerFile = (runId: string) => path.join(layout.runsRoot, `${runId}${ownerSuffix}`)

    /** the names in a folder that end in `suffix` (not temp files), without it */
    const namesIn = (directory: string, suffix: string) =>
      fs.readDirectory(directory).pipe(
        Effect.map((entries) =>
          entries.filter((entry) => entry.endsWith(suffix) && !entry.startsWith(".")).map((entry) =>
            entry.slice(0, -suffix.length)
          )
        ),
        Effect.catchIf(isNotFound, () => Effect.succeed<Array<string>>([])),
        Effect.mapError(storageError(directory))
      )

    const read = (key: string): Effect.Effect<Option.Option<LeaseRecord>, StorageError> =>
      Effect.gen(function*() {
        const file = recordFile(key)
        const text = yield* files.readText(file)
        if (Option.isNone(text)) return Option.none()
        const { lease, released } = yield* files.decodeFile(RecordJson, file, text.value)
        return Option.some({ lease, released })
      })

    const readOwner = (runId: string) =>
      Effect.gen(function*() {
        const file = ownerFile(runId)
        const text = yield* files.readText(file)
        return Option.isNone(text) ? Option.none() : Option.some(yield* files.decodeFile(OwnerJson, file, text.value))
      })

    const table: LeaseTable = {
      exclusive: lock.exclusive,
      read,
      write: (record) =>
        Effect.gen(function*() {
          const file = recordFile(record.lease.certificate)
          yield* files.ensureDirectory(layout.leasesRoot)
          yield* files.writeAtomic(file, yield* files.encodeJson(RecordJson, file, { version: 1 as const, ...record }), publicMode)
        }),
      list: Effect.flatMap(namesIn(layout.leasesRoot, recordSuffix), (keys) =>
        Effect.map(Effect.forEach(keys, read), (records) => records.flatMap(Option.toArray))),
      owners: Effect.flatMap(namesIn(layout.runsRoot, ownerSuffix), (runIds) =>
        Effect.map(
          Effect.forEach(runIds, (runId) => Effect.map(readOwner(runId), Option.map((holder) => [runId, holder] as const))),
          (owners) => new Map(owners.flatMap(Option.toArray))
        )),
      // one file: a checkpoint's save reads its own run's owner, not every run's
      owner: readOwner,
      setOwner: (runId, holder) =>
        Effect.gen(function*() {
          const file = ownerFile(runId)
          yield* files.ensureDirectory(layout.runsRoot)
          yield* files.writeAtomic(file, yield* files.encodeJson(OwnerJson, file, holder), publicMode)
        }),
      removeOwner: (runId) => Effect.asVoid(files.optional(fs.remove(ownerFile(runId)), ownerFile(runId)))
    }
    return table
  })
