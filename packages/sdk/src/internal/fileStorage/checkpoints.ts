/**
 * Run checkpoints in the file system storage: `runs/<run id>.json`, listed in run id order (run
 * ids sort by time), the oldest pruned.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { checkName, isSafeName } from "../storage/names.js"
import type { Records } from "../storage/service.js"
import { isNotFound, storageError } from "./errors.js"
import { type Files, publicMode } from "./files.js"
import type { Layout } from "./layout.js"

/** @internal */
export const checkpointRecords = (
  files: Files,
  layout: Layout
): Pick<Records, "saveCheckpoint" | "loadCheckpoints" | "pruneCheckpoints"> => {
  const { fs, path } = files
  const { runsRoot } = layout

  const checkpointIds = fs.readDirectory(runsRoot).pipe(
    Effect.map((entries) =>
      entries
        .filter((entry) => entry.endsWith(".json"))
        .map((entry) => entry.slice(0, -".json".length))
        .filter(isSafeName)
        .sort()
    ),
    Effect.catchIf(isNotFound, () => Effect.succeed<Array<string>>([])),
    Effect.mapError(storageError(runsRoot))
  )

  const saveCheckpoint: Records["saveCheckpoint"] = Effect.fn("Storage.saveCheckpoint")(function*(runId, json) {
    yield* checkName(runId)
    yield* files.ensureDirectory(runsRoot)
    yield* files.writeAtomic(path.join(runsRoot, `${runId}.json`), json, publicMode)
  })

  const loadCheckpoints: Records["loadCheckpoints"] = Effect.gen(function*() {
    const ids = yield* checkpointIds
    const loaded = yield* Effect.forEach(ids, (runId) =>
      Effect.map(files.readText(path.join(runsRoot, `${runId}.json`)), Option.map((json) => ({ runId, json }))))
    // a checkpoint pruned between the listing and the read is simply gone
    return loaded.flatMap(Option.toArray)
  }).pipe(Effect.withSpan("Storage.loadCheckpoints"))

  const pruneCheckpoints: Records["pruneCheckpoints"] = Effect.fn("Storage.pruneCheckpoints")(function*(keep) {
    const ids = yield* checkpointIds
    const remove = ids.slice(0, Math.max(0, ids.length - Math.max(0, Math.floor(keep))))
    for (const runId of remove) {
      const file = path.join(runsRoot, `${runId}.json`)
      yield* files.optional(fs.remove(file), file)
    }
    if (remove.length > 0) yield* files.syncDirectory(runsRoot)
  })

  return { saveCheckpoint, loadCheckpoints, pruneCheckpoints }
}
