/**
 * Live and archive versions of a certificate: each save writes a new folder
 * `archive/<name>/<n>` and then points the `live/<name>` symlink at it in one rename; the newest
 * versions are kept, a real `live/<name>` folder (an older layout) is migrated into the archive.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as CrashPoint from "../../CrashPoint.js"
import type { StorageError } from "../../StorageError.js"
import { corrupt, isNotFound, storageError } from "./errors.js"
import { type Files, folderMode, privateMode, randomSuffix } from "./files.js"
import type { Layout } from "./layout.js"

/** versions kept per certificate (the live one included) */
const keepVersions = 5

/** What `live/<name>` is. */
type LiveEntry =
  | { readonly _tag: "Link"; readonly target: string; readonly version: Option.Option<number> }
  | { readonly _tag: "Directory" }

/** @internal */
export interface Versions {
  /** the folder the certificate's files are read from right now (the link resolved once) */
  readonly currentDirectory: (name: string) => Effect.Effect<Option.Option<string>, StorageError>
  /**
   * Writes a new version with `write` (given its folder) and makes it live; returns its number.
   * Leftovers of an earlier save that stopped before its swap are removed first, old versions after.
   */
  readonly install: (
    name: string,
    write: (directory: string) => Effect.Effect<void, StorageError>
  ) => Effect.Effect<number, StorageError>
}

/** @internal */
export const makeVersions = (files: Files, layout: Layout): Versions => {
  const { fs, path } = files

  const liveEntry = (name: string): Effect.Effect<Option.Option<LiveEntry>, StorageError> => {
    const link = layout.liveDir(name)
    return fs.readLink(link).pipe(
      Effect.map((target): Option.Option<LiveEntry> => {
        const match = /^\.\.\/archive\/([^/]+)\/(\d+)$/.exec(target.replace(/\\/g, "/"))
        const version = match !== null && match[1] === name ? Option.some(Number(match[2])) : Option.none()
        return Option.some({ _tag: "Link", target, version })
      }),
      Effect.catchIf(isNotFound, () => Effect.succeedNone),
      // not a link: a real folder (an older layout), or something that does not belong there
      Effect.catchAll(() =>
        fs.stat(link).pipe(
          Effect.mapError(storageError(link)),
          Effect.flatMap((info) =>
            info.type === "Directory"
              ? Effect.succeed(Option.some<LiveEntry>({ _tag: "Directory" }))
              : Effect.fail(corrupt(link, "expected a symlink to an archive folder or a folder, found a file"))
          )
        )
      )
    )
  }

  const currentDirectory: Versions["currentDirectory"] = (name) =>
    Effect.map(liveEntry(name), Option.map((entry) =>
      entry._tag === "Link" ? path.resolve(layout.liveRoot, entry.target) : layout.liveDir(name)
    ))

  const versions = (name: string) =>
    fs.readDirectory(layout.archiveDir(name)).pipe(
      Effect.map((entries) =>
        entries.filter((entry) => /^[1-9]\d{0,8}$/.test(entry)).map(Number).sort((a, b) => a - b)
      ),
      Effect.catchIf(isNotFound, () => Effect.succeed<Array<number>>([])),
      Effect.mapError(storageError(layout.archiveDir(name)))
    )

  const removeVersion = (name: string, version: number) =>
    Effect.mapError(
      fs.remove(layout.versionDir(name, version), { recursive: true }),
      storageError(layout.versionDir(name, version))
    )

  /** points `live/<name>` at a version: a temp symlink renamed over the old one */
  const swapLive = (name: string, version: number) => {
    const temp = path.join(layout.liveRoot, `.${name}.tmp-${randomSuffix()}`)
    return Effect.gen(function*() {
      yield* Effect.mapError(
        files.inKnownDirectory(layout.liveRoot, fs.symlink(layout.linkTarget(name, version), temp)),
        storageError(temp)
      )
      yield* CrashPoint.reach("write:live:before-swap")
      yield* Effect.mapError(fs.rename(temp, layout.liveDir(name)), storageError(layout.liveDir(name)))
      yield* files.syncDirectory(layout.liveRoot)
    }).pipe(Effect.onExit((exit) => Exit.isSuccess(exit) ? Effect.void : files.removeQuietly(temp)))
  }

  /**
   * Turns a real `live/<name>` folder into an archive version: its files (links followed) are
   * copied into `archive/<name>/<n>`, the folder is moved aside, the link takes its place, and
   * the moved folder is removed.
   */
  const migrate = (name: string) =>
    Effect.gen(function*() {
      const source = layout.liveDir(name)
      const version = ((yield* versions(name)).at(-1) ?? 0) + 1
      const target = layout.versionDir(name, version)
      yield* Effect.mapError(fs.makeDirectory(target, { mode: folderMode }), storageError(target))
      const entries = yield* Effect.mapError(fs.readDirectory(source), storageError(source))
      for (const entry of entries) {
        if (entry.startsWith(".")) continue
        const file = path.join(source, entry)
        const info = yield* files.optional(fs.stat(file), file)
        if (Option.isNone(info) || info.value.type !== "File") continue
        const content = yield* files.optional(fs.readFile(file), file)
        if (Option.isNone(content)) continue
        const mode = entry === "privkey.pem" || entry.endsWith(".key") ? privateMode : info.value.mode & 0o777
        // fsynced once, below, before the link points at it
        yield* files.writeAtomicUnsynced(path.join(target, entry), content.value, mode)
      }
      yield* files.syncDirectory(target)
      yield* files.syncDirectory(layout.archiveDir(name))
      const aside = path.join(layout.liveRoot, `.${name}.tmp-${randomSuffix()}`)
      yield* Effect.mapError(fs.rename(source, aside), storageError(source))
      yield* swapLive(name, version)
      yield* files.removeQuietly(aside)
      yield* Effect.logInfo(`moved the folder ${source} to ${target} and linked it from live/`)
      return version
    })

  const prune = (name: string, live: number) =>
    Effect.gen(function*() {
      const all = yield* versions(name)
      const keep = new Set([live, ...all.filter((version) => version !== live).slice(-(keepVersions - 1))])
      for (const version of all) {
        if (!keep.has(version)) yield* removeVersion(name, version)
      }
    }).pipe(
      // the new version is live already: a failed clean-up is reported, not failed
      Effect.catchAll((error) => Effect.logWarning(`could not remove old versions of ${name}: ${error.message}`))
    )

  const install: Versions["install"] = (name, write) =>
    Effect.gen(function*() {
      yield* files.ensureDirectory(layout.liveRoot)
      yield* files.ensureDirectory(layout.archiveDir(name))
      const entry = yield* liveEntry(name)
      let live = Option.none<number>()
      if (Option.isSome(entry)) {
        live = entry.value._tag === "Directory" ? Option.some(yield* migrate(name)) : entry.value.version
      }
      const existing = yield* versions(name)
      // versions above the live one are leftovers of a save that stopped before its swap
      if (Option.isSome(live)) {
        for (const version of existing.filter((version) => version > live.value)) {
          yield* removeVersion(name, version)
        }
      }
      const next = Math.max(Option.getOrElse(live, () => 0), ...existing.filter((version) =>
        Option.isNone(live) || version <= live.value
      )) + 1
      const target = layout.versionDir(name, next)
      yield* Effect.mapError(
        files.inKnownDirectory(layout.archiveDir(name), fs.makeDirectory(target, { mode: folderMode })),
        storageError(target)
      )
      yield* Effect.gen(function*() {
        yield* write(target)
        yield* files.syncDirectory(target)
        yield* files.syncDirectory(layout.archiveDir(name))
        yield* swapLive(name, next)
      }).pipe(
        // a version that never went live (a full or read-only disk) goes again, best effort, so
        // that it takes no space; a crash leaves it to the next save, which removes it
        Effect.tapError(() => files.removeQuietly(target))
      )
      yield* prune(name, next)
      return next
    })

  return { currentDirectory, install }
}
