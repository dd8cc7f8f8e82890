/**
 * Whether a `renew --dry-run` would find its storage writable: a dry run writes nothing, but the
 * real run it stands for writes checkpoints, keys and certificates, so a storage folder it cannot
 * write is what the dry run must say (instead of "would renew").
 *
 * @since 0.1.0
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { Effect, Option } from "effect"
import { StorageNotWritable } from "./CliError.js"
import type * as ConfigFile from "./ConfigFile.js"

/** the folders of the file storage that a run writes into, when they exist */
const folders = ["live", "archive", "accounts", "runs", "pending"]

/**
 * Fails with `StorageNotWritable` when the file storage of the configuration (its folder and the
 * folders in it, or, when it does not exist yet, the folder it would be created in) cannot be
 * written by this process. Other storage types are not checked.
 *
 * @since 0.1.0
 * @category checks
 */
export const checkStorage = (
  loaded: ConfigFile.Loaded
): Effect.Effect<void, StorageNotWritable, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const root = loaded.storagePath
    if (root === undefined) return
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const kind = (target: string) =>
      fs.stat(target).pipe(Effect.map((info) => Option.some(info.type)), Effect.orElseSucceed(() => Option.none()))
    const writableFolder = (target: string) =>
      Effect.gen(function*() {
        const type = yield* kind(target)
        if (Option.isSome(type) && type.value !== "Directory") {
          return yield* new StorageNotWritable({ storage: root, path: target, reason: "it is not a folder" })
        }
        yield* fs.access(target, { writable: true }).pipe(
          Effect.mapError((error) =>
            new StorageNotWritable({
              storage: root,
              path: target,
              reason: error._tag === "SystemError" && error.reason === "PermissionDenied"
                ? "permission denied"
                : (error.description ?? error.message).replace(/\s*\n\s*/g, " ")
            })
          )
        )
      })
    // the storage, or the nearest folder above it that exists (where it would be created)
    let target = root
    while (Option.isNone(yield* kind(target)) && path.dirname(target) !== target) target = path.dirname(target)
    yield* writableFolder(target)
    if (target !== root) return
    for (const folder of folders) {
      const inside = path.join(root, folder)
      if (Option.isSome(yield* kind(inside))) yield* writableFolder(inside)
    }
  })
