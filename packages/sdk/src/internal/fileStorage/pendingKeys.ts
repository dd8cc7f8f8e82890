/**
 * Pending certificate keys: a new key written to `pending/` (0600) before finalize, found again by
 * its reference after a crash, deleted once the certificate is stored.
 */
import * as Effect from "effect/Effect"
import { StorageError } from "../../StorageError.js"
import { checkName } from "../storage/names.js"
import type { Records } from "../storage/service.js"
import { type Files, privateMode, safeSegment } from "./files.js"
import type { Layout } from "./layout.js"

/** @internal */
export const pendingKeyRecords = (
  files: Files,
  layout: Layout
): Pick<Records, "savePendingKey" | "loadPendingKey" | "deletePendingKey"> => {
  const { fs, path } = files

  const pendingFile = (reference: string): Effect.Effect<string, StorageError> => {
    const match = /^pending\/(.+)$/.exec(reference)
    const file = match?.[1]
    return file !== undefined && safeSegment.test(file) && file.endsWith(".key")
      ? Effect.succeed(path.join(layout.pendingRoot, file))
      : Effect.fail(
        new StorageError({
          reason: "InvalidName",
          path: reference,
          description: `"${reference}" is not a pending key reference (pending/<name>.<run id>.key)`
        })
      )
  }

  const savePendingKey: Records["savePendingKey"] = Effect.fn("Storage.savePendingKey")(function*(name, runId, keyPem) {
    yield* checkName(name)
    yield* checkName(runId)
    const file = `${name}.${runId}.key`
    yield* files.ensureDirectory(layout.pendingRoot)
    yield* files.writeAtomic(path.join(layout.pendingRoot, file), keyPem, privateMode)
    return `pending/${file}`
  })

  const loadPendingKey: Records["loadPendingKey"] = Effect.fn("Storage.loadPendingKey")(function*(reference) {
    return yield* files.readText(yield* pendingFile(reference))
  })

  const deletePendingKey: Records["deletePendingKey"] = Effect.fn("Storage.deletePendingKey")(function*(reference) {
    const file = yield* pendingFile(reference)
    yield* files.optional(fs.remove(file), file)
    yield* files.syncDirectory(layout.pendingRoot)
  })

  return { savePendingKey, loadPendingKey, deletePendingKey }
}
