/**
 * The sweep of stale temp files: temp files and temp symlinks a crashed process left behind are
 * removed before a process's first write to the storage, once they are older than `staleAfterMillis`,
 * so that a second process writing to the same storage never removes the temp file of one that is
 * writing.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { type Files, tempPattern } from "./files.js"
import type { Layout } from "./layout.js"

/** a temp file younger than this may belong to a write in progress (in another process) */
const staleAfterMillis = 15 * 60 * 1000

/** @internal */
export const cleanStaleTemps = (files: Files, layout: Layout): Effect.Effect<void> => {
  const { fs, path } = files

  const removeStaleTemp = (file: string, now: number) => {
    // a temp symlink lives for the microseconds between symlink and rename: any found is
    // stale (its own age cannot be read: stat follows links)
    const modified = fs.readLink(file).pipe(
      Effect.as(0),
      Effect.orElse(() =>
        fs.stat(file).pipe(
          Effect.map((info) => Option.getOrElse(Option.map(info.mtime, (date) => date.getTime()), () => 0)),
          Effect.orElseSucceed(() => 0)
        )
      )
    )
    return modified.pipe(
      Effect.flatMap((modified) =>
        now - modified >= staleAfterMillis
          ? Effect.zipRight(files.removeQuietly(file), Effect.logDebug(`removed stale temp file ${file}`))
          : Effect.void
      )
    )
  }

  /**
   * Removes the stale temp files in `directory` and, `depth` levels down, in its subfolders. Each
   * folder is listed once (its temp files and its subfolders come from the same listing). One
   * folder at a time: listing 8 at a time cost twice the CPU and 40 MiB more memory for the 20,000
   * folders of 10,000 certificates (a fiber each), and gained no time.
   */
  const removeStaleTemps = (directory: string, depth: number, now: number): Effect.Effect<void> =>
    fs.readDirectory(directory).pipe(
      Effect.orElseSucceed((): Array<string> => []),
      Effect.flatMap((entries) =>
        Effect.zipRight(
          Effect.forEach(
            entries.filter((entry) => tempPattern.test(entry)),
            (entry) => removeStaleTemp(path.join(directory, entry), now),
            { discard: true }
          ),
          depth > 0
            ? Effect.forEach(
              entries.filter((entry) => !entry.startsWith(".")),
              (entry) => removeStaleTemps(path.join(directory, entry), depth - 1, now),
              { discard: true }
            )
            : Effect.void
        )
      )
    )

  return Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    yield* Effect.forEach(
      // archive/<name>/<version>/ and accounts/<ca>/<account>/: two levels of subfolders
      [
        [layout.liveRoot, 0],
        [layout.runsRoot, 0],
        [layout.pendingRoot, 0],
        [layout.leasesRoot, 0],
        [layout.archiveRoot, 2],
        [layout.accountsRoot, 2]
      ] as const,
      ([directory, depth]) => removeStaleTemps(directory, depth, now),
      { discard: true }
    )
  })
}
