/**
 * Run checkpoints in the file system storage: `runs/<run id>.json`, listed in run id order (run
 * ids sort by time), the oldest pruned. A change appended to a checkpoint is a file of its own,
 * `runs/<run id>.<n>.change`, written like every file (temp file, fsync, rename); it begins with a
 * line naming the checkpoint it follows (the SHA-256 of its text), so that changes a crash left
 * behind a newer whole checkpoint are never read as part of it. Saving a whole checkpoint removes
 * the run's changes.
 */
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as Option from "effect/Option"
import { StorageError } from "../../StorageError.js"
import { checkName, isSafeName } from "../storage/names.js"
import type { Records } from "../storage/service.js"
import { isNotFound, storageError } from "./errors.js"
import { type Files, publicMode } from "./files.js"
import type { Layout } from "./layout.js"

const wholeSuffix = ".json"
const changePattern = /^(.+)\.(\d{6,})\.change$/

const digest = (text: string): Effect.Effect<string> =>
  Effect.promise(() => globalThis.crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))).pipe(
    Effect.map((hash) => Encoding.encodeHex(new Uint8Array(hash)))
  )

/** the run ids of the whole checkpoints, in order, and each run's change files, in order */
interface Listing {
  readonly runIds: ReadonlyArray<string>
  readonly changes: ReadonlyMap<string, ReadonlyArray<{ readonly file: string; readonly n: number }>>
}

/** @internal */
export const checkpointRecords = (
  files: Files,
  layout: Layout
): Pick<Records, "saveCheckpoint" | "appendCheckpoint" | "loadCheckpoints" | "pruneCheckpoints"> => {
  const { fs, path } = files
  const { runsRoot } = layout
  /** what this process last wrote whole, by run: its digest and the number of the next change */
  const written = new Map<string, { readonly digest: string; next: number }>()

  const wholeFile = (runId: string) => path.join(runsRoot, `${runId}${wholeSuffix}`)
  const changeFile = (runId: string, n: number) => path.join(runsRoot, `${runId}.${String(n).padStart(6, "0")}.change`)

  const listing: Effect.Effect<Listing, StorageError> = fs.readDirectory(runsRoot).pipe(
    Effect.map((entries): Listing => {
      const changes = new Map<string, Array<{ file: string; n: number }>>()
      for (const entry of entries) {
        const match = changePattern.exec(entry)
        if (match === null || !isSafeName(match[1] ?? "")) continue
        const runId = match[1] ?? ""
        changes.set(runId, [...(changes.get(runId) ?? []), { file: path.join(runsRoot, entry), n: Number(match[2]) }])
      }
      for (const list of changes.values()) list.sort((a, b) => a.n - b.n)
      const runIds = entries
        .filter((entry) => entry.endsWith(wholeSuffix))
        .map((entry) => entry.slice(0, -wholeSuffix.length))
        .filter(isSafeName)
        .sort()
      return { runIds, changes }
    }),
    Effect.catchIf(isNotFound, () => Effect.succeed<Listing>({ runIds: [], changes: new Map() })),
    Effect.mapError(storageError(runsRoot))
  )

  const removeChanges = (runId: string, listed: Listing) =>
    Effect.forEach(listed.changes.get(runId) ?? [], ({ file }) => files.optional(fs.remove(file), file), {
      discard: true
    })

  const saveCheckpoint: Records["saveCheckpoint"] = Effect.fn("Storage.saveCheckpoint")(function*(runId, json) {
    yield* checkName(runId)
    yield* files.ensureDirectory(runsRoot)
    yield* files.writeAtomic(wholeFile(runId), json, publicMode)
    const known = written.get(runId)
    // the run's changes are in the whole checkpoint now (or were another's): remove them; one that a
    // crash leaves names the checkpoint before this one, so it is not read as part of this one
    if (known === undefined || known.next > 0) {
      yield* removeChanges(runId, yield* listing)
    }
    written.set(runId, { digest: yield* digest(json), next: 0 })
  })

  const appendCheckpoint: Records["appendCheckpoint"] = Effect.fn("Storage.appendCheckpoint")(function*(runId, change) {
    yield* checkName(runId)
    let known = written.get(runId)
    if (known === undefined) {
      // a checkpoint this process did not write: append after its changes
      const file = wholeFile(runId)
      const text = yield* files.readText(file)
      if (Option.isNone(text)) {
        return yield* new StorageError({ reason: "Io", path: file, description: "there is no checkpoint of this run to append to" })
      }
      const changes = (yield* listing).changes.get(runId) ?? []
      known = { digest: yield* digest(text.value), next: (changes.at(-1)?.n ?? -1) + 1 }
      written.set(runId, known)
    }
    yield* files.writeAtomic(changeFile(runId, known.next), `${known.digest}\n${change}`, publicMode)
    known.next++
  })

  /** the whole checkpoint followed by each of its changes after a line break (see `appendCheckpoint`) */
  const readCheckpoint = (runId: string, listed: Listing) =>
    Effect.gen(function*() {
      const whole = yield* files.readText(wholeFile(runId))
      const changes = listed.changes.get(runId) ?? []
      if (Option.isNone(whole) || changes.length === 0) return whole
      const own = yield* digest(whole.value)
      const texts = yield* Effect.forEach(changes, ({ file }) => files.readText(file))
      const following = texts.flatMap(Option.toArray).flatMap((text) => {
        const at = text.indexOf("\n")
        return at > 0 && text.slice(0, at) === own ? [text.slice(at + 1)] : []
      })
      return Option.some([whole.value, ...following].join("\n"))
    })

  const loadCheckpoints: Records["loadCheckpoints"] = Effect.gen(function*() {
    const listed = yield* listing
    const loaded = yield* Effect.forEach(listed.runIds, (runId) =>
      Effect.map(readCheckpoint(runId, listed), Option.map((json) => ({ runId, json }))))
    // a checkpoint pruned between the listing and the read is simply gone
    return loaded.flatMap(Option.toArray)
  }).pipe(Effect.withSpan("Storage.loadCheckpoints"))

  const pruneCheckpoints: Records["pruneCheckpoints"] = Effect.fn("Storage.pruneCheckpoints")(function*(keep) {
    const listed = yield* listing
    const kept = new Set(listed.runIds.slice(Math.max(0, listed.runIds.length - Math.max(0, Math.floor(keep)))))
    const remove = listed.runIds.filter((runId) => !kept.has(runId))
    for (const runId of remove) {
      yield* files.optional(fs.remove(wholeFile(runId)), wholeFile(runId))
      written.delete(runId)
    }
    // changes of a removed run, and changes whose checkpoint is gone
    for (const runId of listed.changes.keys()) {
      if (!kept.has(runId)) yield* removeChanges(runId, listed)
    }
    if (remove.length > 0 || [...listed.changes.keys()].some((runId) => !kept.has(runId))) {
      yield* files.syncDirectory(runsRoot)
    }
  })

  return { saveCheckpoint, appendCheckpoint, loadCheckpoints, pruneCheckpoints }
}
