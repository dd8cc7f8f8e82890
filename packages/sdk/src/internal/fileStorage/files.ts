/**
 * The file primitives of the file system storage: atomic writes (temp file in the same folder,
 * created with its final mode, fsync, rename, fsync the folder), reads that tell a missing file
 * from a failure, and Schema-checked JSON.
 */
import type * as PlatformError from "@effect/platform/Error"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as CrashPoint from "../../CrashPoint.js"
import { StorageError } from "../../StorageError.js"
import { corrupt, describeParseError, isNotFound, storageError } from "./errors.js"

/** @internal */
export const publicMode = 0o644
/** @internal */
export const privateMode = 0o600
/**
 * Every folder the storage creates: private keys live in them, so they are the owner's alone,
 * whatever the umask (which can only take permissions away from this).
 *
 * @internal
 */
export const folderMode = 0o700

/**
 * `.<file>.tmp-<random>`: the names of temp files and temp symlinks.
 *
 * @internal
 */
export const tempPattern = /^\..+\.tmp-[0-9a-f]+$/

/**
 * A path segment that cannot climb out of its folder (no separator, not `.` or `..`).
 *
 * @internal
 */
export const safeSegment = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}$/

/** @internal */
export const randomSuffix = (): string => Encoding.encodeHex(globalThis.crypto.getRandomValues(new Uint8Array(8)))

/** @internal */
export interface Files {
  readonly fs: FileSystem.FileSystem
  readonly path: Path.Path
  /** Some(result), or None when the file (or a folder on its way) does not exist */
  readonly optional: <A>(
    effect: Effect.Effect<A, PlatformError.PlatformError>,
    file: string
  ) => Effect.Effect<Option.Option<A>, StorageError>
  /**
   * creates a folder (and the folders on its way) unless this storage made or found it before: a
   * run writes into the same few folders again and again, and each `mkdir` of an existing folder is
   * a system call (and a thread-pool round trip) for nothing
   */
  readonly ensureDirectory: (directory: string) => Effect.Effect<void, StorageError>
  /**
   * `create` (which makes a file in `directory`) again after making the folder, when it failed
   * because a folder `ensureDirectory` skipped as known was removed meanwhile (by hand, by another
   * process): a write then finds its folder as it did when every write made it first
   */
  readonly inKnownDirectory: <A, R>(
    directory: string,
    create: Effect.Effect<A, PlatformError.PlatformError, R>
  ) => Effect.Effect<A, PlatformError.PlatformError, R>
  /** fsyncs a folder so that a rename in it is durable; not every platform can, so failures are ignored */
  readonly syncDirectory: (directory: string) => Effect.Effect<void>
  readonly removeQuietly: (target: string) => Effect.Effect<void>
  /** temp file in the same folder, fsync, crash point, rename over the target, fsync the folder */
  readonly writeAtomic: (file: string, content: string | Uint8Array, mode: number) => Effect.Effect<void, StorageError>
  /**
   * as `writeAtomic`, without the fsync of the folder: for the files of a folder that is not in use
   * yet (a new certificate version), whose writer fsyncs the folder once after its last file and
   * before anything points at it
   */
  readonly writeAtomicUnsynced: (
    file: string,
    content: string | Uint8Array,
    mode: number
  ) => Effect.Effect<void, StorageError>
  /** as `writeAtomic`, but only when the file does not exist (a hard link instead of the rename): whether it did */
  readonly createAtomic: (file: string, content: string | Uint8Array, mode: number) => Effect.Effect<boolean, StorageError>
  readonly readText: (file: string) => Effect.Effect<Option.Option<string>, StorageError>
  readonly decodeFile: <A, I>(schema: Schema.Schema<A, I>, file: string, text: string) => Effect.Effect<A, StorageError>
  readonly encodeJson: <A, I>(schema: Schema.Schema<A, I>, file: string, value: A) => Effect.Effect<I, StorageError>
}

/** @internal */
export const makeFiles = (fs: FileSystem.FileSystem, path: Path.Path): Files => {
  /** the folders this storage made or found (see `ensureDirectory`) */
  const known = new Set<string>()

  const makeDirectory = (directory: string) =>
    Effect.tap(
      fs.makeDirectory(directory, { recursive: true, mode: folderMode }),
      () => Effect.sync(() => known.add(directory))
    )

  const ensureDirectory: Files["ensureDirectory"] = (directory) =>
    known.has(directory) ? Effect.void : Effect.mapError(makeDirectory(directory), storageError(directory))

  const inKnownDirectory: Files["inKnownDirectory"] = (directory, create) =>
    Effect.catchIf(create, (error) => isNotFound(error) && known.has(directory), () =>
      Effect.zipRight(
        Effect.suspend(() => {
          known.delete(directory)
          return makeDirectory(directory)
        }),
        create
      ))

  const optional: Files["optional"] = (effect, file) =>
    effect.pipe(
      Effect.map(Option.some),
      Effect.catchIf(isNotFound, () => Effect.succeedNone),
      Effect.mapError(storageError(file))
    )

  const syncDirectory: Files["syncDirectory"] = (directory) =>
    Effect.scoped(Effect.flatMap(fs.open(directory, { flag: "r" }), (handle) => handle.sync)).pipe(Effect.ignore)

  const removeQuietly: Files["removeQuietly"] = (target) => Effect.ignore(fs.remove(target, { recursive: true }))

  /** writes `content` to a temp file next to `file` (fsynced), then `publish(temp)` */
  const viaTemp = <A>(
    file: string,
    content: string | Uint8Array,
    mode: number,
    publish: (temp: string) => Effect.Effect<A, StorageError>,
    syncFolder = true
  ): Effect.Effect<A, StorageError> => {
    const directory = path.dirname(file)
    const base = path.basename(file)
    const temp = path.join(directory, `.${base}.tmp-${randomSuffix()}`)
    const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content
    return Effect.gen(function*() {
      yield* Effect.scoped(
        Effect.gen(function*() {
          // created with its final mode: a private key is never readable by others, not even briefly
          const handle = yield* inKnownDirectory(directory, fs.open(temp, { flag: "wx", mode }))
          // an empty file (a chain with no intermediate) is written by writing nothing: writeAll
          // refuses an empty buffer
          if (bytes.length > 0) yield* handle.writeAll(bytes)
          yield* handle.sync
        })
      ).pipe(Effect.mapError(storageError(file)))
      yield* CrashPoint.reach(`write:${base}:before-rename`)
      const published = yield* publish(temp)
      if (syncFolder) yield* syncDirectory(directory)
      return published
    }).pipe(
      // a write that fails (or is interrupted) in this process removes its own temp file
      Effect.onExit((exit) => Exit.isSuccess(exit) ? Effect.void : removeQuietly(temp))
    )
  }

  const rename = (file: string) => (temp: string) => Effect.mapError(fs.rename(temp, file), storageError(file))

  const writeAtomic: Files["writeAtomic"] = (file, content, mode) => viaTemp(file, content, mode, rename(file))

  const writeAtomicUnsynced: Files["writeAtomicUnsynced"] = (file, content, mode) =>
    viaTemp(file, content, mode, rename(file), false)

  const createAtomic: Files["createAtomic"] = (file, content, mode) =>
    viaTemp(file, content, mode, (temp) =>
      fs.link(temp, file).pipe(
        Effect.as(true),
        Effect.catchIf((error) => error._tag === "SystemError" && error.reason === "AlreadyExists", () => Effect.succeed(false)),
        Effect.mapError(storageError(file)),
        Effect.ensuring(removeQuietly(temp))
      ))

  return {
    fs,
    path,
    optional,
    ensureDirectory,
    inKnownDirectory,
    syncDirectory,
    removeQuietly,
    writeAtomic,
    writeAtomicUnsynced,
    createAtomic,
    readText: (file) => optional(fs.readFileString(file), file),
    decodeFile: (schema, file, text) =>
      Effect.mapError(Schema.decodeUnknown(schema)(text), (error) => corrupt(file, describeParseError(error))),
    encodeJson: (schema, file, value) =>
      Effect.mapError(
        Schema.encode(schema)(value),
        (error) => new StorageError({ reason: "Io", path: file, description: `cannot encode: ${describeParseError(error)}` })
      )
  }
}
