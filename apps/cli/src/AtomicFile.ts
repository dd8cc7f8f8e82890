/**
 * Files the commands write for the user (a configuration file, systemd units): written whole or not
 * at all, a temp file in the same folder synced and renamed over the name, so that a crash or a full
 * disk never leaves half a file where a timer or `acme renew` reads it.
 *
 * @since 0.1.0
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import type { PlatformError } from "@effect/platform/Error"
import { Effect, Random } from "effect"

/**
 * Writes `text` to `target` atomically with the file mode `mode` (whatever the umask).
 *
 * @since 0.1.0
 * @category writing
 */
export const writeString = (
  target: string,
  text: string,
  mode: number
): Effect.Effect<void, PlatformError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const suffix = (yield* Random.nextIntBetween(0, 2 ** 31)).toString(36)
    const temp = path.join(path.dirname(target), `.${path.basename(target)}.tmp-${suffix}`)
    yield* Effect.scoped(Effect.gen(function*() {
      const file = yield* fs.open(temp, { flag: "wx", mode })
      yield* file.writeAll(new TextEncoder().encode(text))
      yield* file.sync
    })).pipe(
      Effect.zipRight(fs.chmod(temp, mode)),
      Effect.zipRight(fs.rename(temp, target)),
      Effect.tapError(() => fs.remove(temp).pipe(Effect.ignore))
    )
  })
