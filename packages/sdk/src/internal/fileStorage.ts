/**
 * Storage in a folder, through @effect/platform's `FileSystem` and `Path` only:
 *
 * ```
 * <root>/live/<name> -> ../archive/<name>/<version>     a relative symlink, swapped atomically
 * <root>/archive/<name>/<version>/cert.pem chain.pem fullchain.pem privkey.pem (0600) metadata.json
 * <root>/accounts/<caFolder(directoryUrl)>/<account name>/account.key (0600) account.json
 * <root>/runs/<run id>.json
 * <root>/pending/<name>.<run id>.key (0600)
 * ```
 *
 * Every file is written to `.<file>.tmp-<random>` in its own folder (created with its final mode),
 * fsynced, renamed over the target, and the folder fsynced (best effort). Temp files a crashed
 * process left behind are removed when the storage is next made (`make`), once they are older
 * than `staleAfterMillis`, so that a second process reading the same storage never removes the
 * temp file of one that is writing.
 */
import type * as PlatformError from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import * as CrashPoint from "../CrashPoint.js"
// Storage.ts imports this module: its values are only used inside functions, never at load time.
import {
  AccountInfo,
  caFolder,
  CertificateMetadata,
  type CertificatePaths,
  checkName,
  isSafeName,
  type Service,
  type StoredAccount,
  type StoredCertificate,
  StorageError
} from "../Storage.js"

/** versions kept per certificate (the live one included) */
const keepVersions = 5

/** a temp file younger than this may belong to a write in progress (in another process) */
const staleAfterMillis = 15 * 60 * 1000

const publicMode = 0o644
const privateMode = 0o600

/** `.<file>.tmp-<random>`: the names of temp files and temp symlinks */
const tempPattern = /^\..+\.tmp-[0-9a-f]+$/

/** a path segment that cannot climb out of its folder (no separator, not `.` or `..`) */
const safeSegment = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}$/

const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, " ").trim()

const randomSuffix = (): string => Encoding.encodeHex(globalThis.crypto.getRandomValues(new Uint8Array(8)))

const errnoCode = (error: PlatformError.PlatformError): string | undefined => {
  if (error._tag !== "SystemError") return undefined
  if (Predicate.hasProperty(error.cause, "code") && typeof error.cause.code === "string") return error.cause.code
  return /\b(EACCES|EPERM|EROFS|ENOSPC|EDQUOT)\b/.exec(error.description ?? "")?.[1]
}

const isNotFound = (error: PlatformError.PlatformError): boolean =>
  error._tag === "SystemError" && error.reason === "NotFound"

const describePlatformError = (error: PlatformError.PlatformError): string =>
  oneLine(
    error._tag === "SystemError"
      ? error.description ?? `${error.reason} (${error.method})`
      : error.description ?? `bad argument to ${error.method}`
  )

/** A PlatformError as a StorageError about `path`. */
const storageError = (path: string) => (error: PlatformError.PlatformError): StorageError => {
  const code = errnoCode(error)
  const readOnly = error._tag === "SystemError" &&
    (error.reason === "PermissionDenied" || code === "EACCES" || code === "EPERM" || code === "EROFS")
  const full = code === "ENOSPC" || code === "EDQUOT"
  return new StorageError({
    reason: full ? "Full" : readOnly ? "ReadOnly" : "Io",
    path,
    description: code === "EROFS"
      ? `its file system is mounted read-only: ${describePlatformError(error)}`
      : code === "ENOSPC"
      ? `no space left on the device: ${describePlatformError(error)}`
      : code === "EDQUOT"
      ? `the disk quota is used up: ${describePlatformError(error)}`
      : describePlatformError(error)
  })
}

const corrupt = (path: string, description: string) => new StorageError({ reason: "Corrupt", path, description })

const describeParseError = (error: ParseResult.ParseError): string => {
  const issue = ParseResult.ArrayFormatter.formatErrorSync(error)[0]
  return issue === undefined
    ? oneLine(error.message)
    : oneLine(issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message)
}

/** What `live/<name>` is. */
type LiveEntry =
  | { readonly _tag: "Link"; readonly target: string; readonly version: Option.Option<number> }
  | { readonly _tag: "Directory" }

/** @internal */
export const make = (root: string): Effect.Effect<Service, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    /** certificate writes (save, metadata update) one at a time */
    const certificateLock = yield* Effect.makeSemaphore(1)
    const MetadataJson = Schema.parseJson(CertificateMetadata, { space: 2 })
    const AccountInfoJson = Schema.parseJson(AccountInfo, { space: 2 })

    const liveRoot = path.join(root, "live")
    const archiveRoot = path.join(root, "archive")
    const accountsRoot = path.join(root, "accounts")
    const runsRoot = path.join(root, "runs")
    const pendingRoot = path.join(root, "pending")

    const liveDir = (name: string) => path.join(liveRoot, name)
    const archiveDir = (name: string) => path.join(archiveRoot, name)
    const versionDir = (name: string, version: number) => path.join(archiveRoot, name, String(version))
    const linkTarget = (name: string, version: number) => `../archive/${name}/${version}`

    const certificatePaths = (name: string): CertificatePaths => {
      const directory = liveDir(name)
      return {
        directory,
        cert: path.join(directory, "cert.pem"),
        chain: path.join(directory, "chain.pem"),
        fullchain: path.join(directory, "fullchain.pem"),
        privkey: path.join(directory, "privkey.pem"),
        metadata: path.join(directory, "metadata.json")
      }
    }

    // -- primitives ---------------------------------------------------------------------------

    /** Some(result), or None when the file (or a folder on its way) does not exist. */
    const optional = <A>(
      effect: Effect.Effect<A, PlatformError.PlatformError>,
      file: string
    ): Effect.Effect<Option.Option<A>, StorageError> =>
      effect.pipe(
        Effect.map(Option.some),
        Effect.catchIf(isNotFound, () => Effect.succeed(Option.none<A>())),
        Effect.mapError(storageError(file))
      )

    const ensureDirectory = (directory: string) =>
      Effect.mapError(fs.makeDirectory(directory, { recursive: true }), storageError(directory))

    /** fsyncs a folder so that a rename in it is durable; not every platform can, so failures are ignored */
    const syncDirectory = (directory: string) =>
      Effect.scoped(Effect.flatMap(fs.open(directory, { flag: "r" }), (handle) => handle.sync)).pipe(Effect.ignore)

    const removeQuietly = (target: string) => Effect.ignore(fs.remove(target, { recursive: true }))

    /** temp file in the same folder, fsync, crash point, rename over the target, fsync the folder */
    const writeAtomic = (file: string, content: string | Uint8Array, mode: number) => {
      const directory = path.dirname(file)
      const base = path.basename(file)
      const temp = path.join(directory, `.${base}.tmp-${randomSuffix()}`)
      const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content
      return Effect.gen(function*() {
        yield* Effect.scoped(
          Effect.gen(function*() {
            // created with its final mode: a private key is never readable by others, not even briefly
            const handle = yield* fs.open(temp, { flag: "wx", mode })
            yield* handle.writeAll(bytes)
            yield* handle.sync
          })
        ).pipe(Effect.mapError(storageError(file)))
        yield* CrashPoint.reach(`write:${base}:before-rename`)
        yield* Effect.mapError(fs.rename(temp, file), storageError(file))
        yield* syncDirectory(directory)
      }).pipe(
        // a write that fails (or is interrupted) in this process removes its own temp file
        Effect.onExit((exit) => Exit.isSuccess(exit) ? Effect.void : removeQuietly(temp))
      )
    }

    const readText = (file: string) => optional(fs.readFileString(file), file)

    const decodeFile = <A, I>(schema: Schema.Schema<A, I>, file: string, text: string) =>
      Effect.mapError(Schema.decodeUnknown(schema)(text), (error) => corrupt(file, describeParseError(error)))

    const encodeJson = <A, I>(schema: Schema.Schema<A, I>, file: string, value: A) =>
      Effect.mapError(
        Schema.encode(schema)(value),
        (error) => new StorageError({ reason: "Io", path: file, description: `cannot encode: ${describeParseError(error)}` })
      )

    // -- stale temp files -----------------------------------------------------------------------

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
            ? Effect.zipRight(removeQuietly(file), Effect.logDebug(`removed stale temp file ${file}`))
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

    const cleanStaleTemps = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      yield* Effect.forEach(
        // archive/<name>/<version>/ and accounts/<ca>/<account>/: two levels of subfolders
        [[liveRoot, 0], [runsRoot, 0], [pendingRoot, 0], [archiveRoot, 2], [accountsRoot, 2]] as const,
        ([directory, depth]) => removeStaleTemps(directory, depth, now),
        { discard: true }
      )
    })

    // -- certificates -----------------------------------------------------------------------------

    const liveEntry = (name: string): Effect.Effect<Option.Option<LiveEntry>, StorageError> => {
      const link = liveDir(name)
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

    /** the folder the certificate's files are read from right now (the link resolved once) */
    const currentDirectory = (name: string) =>
      Effect.map(liveEntry(name), Option.map((entry) =>
        entry._tag === "Link" ? path.resolve(liveRoot, entry.target) : liveDir(name)
      ))

    const versions = (name: string) =>
      fs.readDirectory(archiveDir(name)).pipe(
        Effect.map((entries) =>
          entries.filter((entry) => /^[1-9]\d{0,8}$/.test(entry)).map(Number).sort((a, b) => a - b)
        ),
        Effect.catchIf(isNotFound, () => Effect.succeed<Array<number>>([])),
        Effect.mapError(storageError(archiveDir(name)))
      )

    /** points `live/<name>` at a version: a temp symlink renamed over the old one */
    const swapLive = (name: string, version: number) => {
      const temp = path.join(liveRoot, `.${name}.tmp-${randomSuffix()}`)
      return Effect.gen(function*() {
        yield* Effect.mapError(fs.symlink(linkTarget(name, version), temp), storageError(temp))
        yield* CrashPoint.reach("write:live:before-swap")
        yield* Effect.mapError(fs.rename(temp, liveDir(name)), storageError(liveDir(name)))
        yield* syncDirectory(liveRoot)
      }).pipe(Effect.onExit((exit) => Exit.isSuccess(exit) ? Effect.void : removeQuietly(temp)))
    }

    /**
     * Turns a real `live/<name>` folder into an archive version: its files (links followed) are
     * copied into `archive/<name>/<n>`, the folder is moved aside, the link takes its place, and
     * the moved folder is removed.
     */
    const migrate = (name: string) =>
      Effect.gen(function*() {
        const source = liveDir(name)
        const version = ((yield* versions(name)).at(-1) ?? 0) + 1
        const target = versionDir(name, version)
        yield* Effect.mapError(fs.makeDirectory(target), storageError(target))
        const entries = yield* Effect.mapError(fs.readDirectory(source), storageError(source))
        for (const entry of entries) {
          if (entry.startsWith(".")) continue
          const file = path.join(source, entry)
          const info = yield* optional(fs.stat(file), file)
          if (Option.isNone(info) || info.value.type !== "File") continue
          const content = yield* optional(fs.readFile(file), file)
          if (Option.isNone(content)) continue
          const mode = entry === "privkey.pem" || entry.endsWith(".key") ? privateMode : info.value.mode & 0o777
          yield* writeAtomic(path.join(target, entry), content.value, mode)
        }
        yield* syncDirectory(target)
        yield* syncDirectory(archiveDir(name))
        const aside = path.join(liveRoot, `.${name}.tmp-${randomSuffix()}`)
        yield* Effect.mapError(fs.rename(source, aside), storageError(source))
        yield* swapLive(name, version)
        yield* removeQuietly(aside)
        yield* Effect.logInfo(`moved the folder ${source} to ${target} and linked it from live/`)
        return version
      })

    const prune = (name: string, live: number) =>
      Effect.gen(function*() {
        const all = yield* versions(name)
        const keep = new Set([live, ...all.filter((version) => version !== live).slice(-(keepVersions - 1))])
        for (const version of all) {
          if (!keep.has(version)) {
            yield* Effect.mapError(fs.remove(versionDir(name, version), { recursive: true }), storageError(versionDir(name, version)))
          }
        }
      }).pipe(
        // the new version is live already: a failed clean-up is reported, not failed
        Effect.catchAll((error) => Effect.logWarning(`could not remove old versions of ${name}: ${error.message}`))
      )

    const saveCertificate: Service["saveCertificate"] = Effect.fn("Storage.saveCertificate")(function*(certificate) {
      const name = yield* checkName(certificate.name)
      const metadataJson = yield* encodeJson(MetadataJson, path.join(liveDir(name), "metadata.json"), certificate.metadata)
      return yield* certificateLock.withPermits(1)(Effect.gen(function*() {
        yield* ensureDirectory(liveRoot)
        yield* ensureDirectory(archiveDir(name))
        const entry = yield* liveEntry(name)
        let live = Option.none<number>()
        if (Option.isSome(entry)) {
          live = entry.value._tag === "Directory" ? Option.some(yield* migrate(name)) : entry.value.version
        }
        const existing = yield* versions(name)
        // versions above the live one are leftovers of a save that stopped before its swap
        if (Option.isSome(live)) {
          for (const version of existing.filter((version) => version > live.value)) {
            yield* Effect.mapError(fs.remove(versionDir(name, version), { recursive: true }), storageError(versionDir(name, version)))
          }
        }
        const next = Math.max(Option.getOrElse(live, () => 0), ...existing.filter((version) =>
          Option.isNone(live) || version <= live.value
        )) + 1
        const target = versionDir(name, next)
        yield* Effect.mapError(fs.makeDirectory(target), storageError(target))
        yield* Effect.gen(function*() {
          yield* writeAtomic(path.join(target, "cert.pem"), certificate.certPem, publicMode)
          yield* writeAtomic(path.join(target, "chain.pem"), certificate.chainPem, publicMode)
          yield* writeAtomic(path.join(target, "fullchain.pem"), certificate.fullchainPem, publicMode)
          yield* writeAtomic(path.join(target, "privkey.pem"), certificate.keyPem, privateMode)
          yield* writeAtomic(path.join(target, "metadata.json"), metadataJson, publicMode)
          yield* syncDirectory(target)
          yield* syncDirectory(archiveDir(name))
          yield* swapLive(name, next)
        }).pipe(
          // a version that never went live (a full or read-only disk) goes again, best effort, so
          // that it takes no space; a crash leaves it to the next save, which removes it
          Effect.tapError(() => removeQuietly(target))
        )
        yield* prune(name, next)
        return certificatePaths(name)
      }))
    })

    const loadCertificate: Service["loadCertificate"] = Effect.fn("Storage.loadCertificate")(function*(name) {
      yield* checkName(name)
      const directory = yield* currentDirectory(name)
      if (Option.isNone(directory)) return Option.none()
      const fullchainPem = yield* readText(path.join(directory.value, "fullchain.pem"))
      const metadataFile = path.join(directory.value, "metadata.json")
      const metadataText = yield* readText(metadataFile)
      if (Option.isNone(fullchainPem) || Option.isNone(metadataText)) return Option.none()
      const metadata = yield* decodeFile(MetadataJson, metadataFile, metadataText.value)
      return Option.some<StoredCertificate>({
        name,
        fullchainPem: fullchainPem.value,
        metadata,
        paths: certificatePaths(name)
      })
    })

    const loadCertificateKey: Service["loadCertificateKey"] = Effect.fn("Storage.loadCertificateKey")(function*(name) {
      yield* checkName(name)
      const directory = yield* currentDirectory(name)
      if (Option.isNone(directory)) return Option.none()
      return yield* readText(path.join(directory.value, "privkey.pem"))
    })

    const updateMetadata: Service["updateMetadata"] = Effect.fn("Storage.updateMetadata")(function*(name, metadata) {
      yield* checkName(name)
      yield* certificateLock.withPermits(1)(Effect.gen(function*() {
        const directory = yield* currentDirectory(name)
        // like the memory storage: nothing stored, nothing to update
        if (Option.isNone(directory)) return
        const file = path.join(directory.value, "metadata.json")
        yield* writeAtomic(file, yield* encodeJson(MetadataJson, file, metadata), publicMode)
      }))
    })

    const listCertificates: Service["listCertificates"] = fs.readDirectory(liveRoot).pipe(
      Effect.map((entries) => entries.filter(isSafeName).sort()),
      Effect.catchIf(isNotFound, () => Effect.succeed<Array<string>>([])),
      Effect.mapError(storageError(liveRoot)),
      Effect.withSpan("Storage.listCertificates")
    )

    // -- pending keys -------------------------------------------------------------------------------

    const pendingFile = (reference: string): Effect.Effect<string, StorageError> => {
      const match = /^pending\/(.+)$/.exec(reference)
      const file = match?.[1]
      return file !== undefined && safeSegment.test(file) && file.endsWith(".key")
        ? Effect.succeed(path.join(pendingRoot, file))
        : Effect.fail(
          new StorageError({
            reason: "InvalidName",
            path: reference,
            description: `"${reference}" is not a pending key reference (pending/<name>.<run id>.key)`
          })
        )
    }

    const savePendingKey: Service["savePendingKey"] = Effect.fn("Storage.savePendingKey")(function*(name, runId, keyPem) {
      yield* checkName(name)
      yield* checkName(runId)
      const file = `${name}.${runId}.key`
      yield* ensureDirectory(pendingRoot)
      yield* writeAtomic(path.join(pendingRoot, file), keyPem, privateMode)
      return `pending/${file}`
    })

    const loadPendingKey: Service["loadPendingKey"] = Effect.fn("Storage.loadPendingKey")(function*(reference) {
      return yield* readText(yield* pendingFile(reference))
    })

    const deletePendingKey: Service["deletePendingKey"] = Effect.fn("Storage.deletePendingKey")(function*(reference) {
      const file = yield* pendingFile(reference)
      yield* optional(fs.remove(file), file)
      yield* syncDirectory(pendingRoot)
    })

    // -- accounts -------------------------------------------------------------------------------------

    const accountDir = (directoryUrl: string, name: string) =>
      Effect.gen(function*() {
        yield* checkName(name)
        const ca = caFolder(directoryUrl)
        if (!safeSegment.test(ca)) {
          return yield* new StorageError({
            reason: "InvalidName",
            path: ca,
            description: `the directory URL ${directoryUrl} gives no usable folder name`
          })
        }
        return path.join(accountsRoot, ca, name)
      })

    const loadAccount: Service["loadAccount"] = Effect.fn("Storage.loadAccount")(function*(directoryUrl, name) {
      const directory = yield* accountDir(directoryUrl, name)
      const keyPem = yield* readText(path.join(directory, "account.key"))
      if (Option.isNone(keyPem)) return Option.none()
      const infoFile = path.join(directory, "account.json")
      const infoText = yield* readText(infoFile)
      const info = Option.isSome(infoText)
        ? Option.some(yield* decodeFile(AccountInfoJson, infoFile, infoText.value))
        : Option.none()
      return Option.some<StoredAccount>({ keyPem: keyPem.value, info })
    })

    const saveAccountKey: Service["saveAccountKey"] = Effect.fn("Storage.saveAccountKey")(
      function*(directoryUrl, name, keyPem) {
        const directory = yield* accountDir(directoryUrl, name)
        yield* ensureDirectory(directory)
        yield* writeAtomic(path.join(directory, "account.key"), keyPem, privateMode)
      }
    )

    const saveAccountInfo: Service["saveAccountInfo"] = Effect.fn("Storage.saveAccountInfo")(
      function*(directoryUrl, name, info) {
        const directory = yield* accountDir(directoryUrl, name)
        const keyFile = path.join(directory, "account.key")
        // like the memory storage: the info belongs to a stored key
        if (!(yield* Effect.mapError(fs.exists(keyFile), storageError(keyFile)))) return
        const file = path.join(directory, "account.json")
        yield* writeAtomic(file, yield* encodeJson(AccountInfoJson, file, info), publicMode)
      }
    )

    // -- checkpoints ----------------------------------------------------------------------------------

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

    const saveCheckpoint: Service["saveCheckpoint"] = Effect.fn("Storage.saveCheckpoint")(function*(runId, json) {
      yield* checkName(runId)
      yield* ensureDirectory(runsRoot)
      yield* writeAtomic(path.join(runsRoot, `${runId}.json`), json, publicMode)
    })

    const loadCheckpoints: Service["loadCheckpoints"] = Effect.gen(function*() {
      const ids = yield* checkpointIds
      const loaded = yield* Effect.forEach(ids, (runId) =>
        Effect.map(readText(path.join(runsRoot, `${runId}.json`)), Option.map((json) => ({ runId, json }))))
      // a checkpoint pruned between the listing and the read is simply gone
      return loaded.flatMap(Option.toArray)
    }).pipe(Effect.withSpan("Storage.loadCheckpoints"))

    const pruneCheckpoints: Service["pruneCheckpoints"] = Effect.fn("Storage.pruneCheckpoints")(function*(keep) {
      const ids = yield* checkpointIds
      const remove = ids.slice(0, Math.max(0, ids.length - Math.max(0, Math.floor(keep))))
      for (const runId of remove) {
        const file = path.join(runsRoot, `${runId}.json`)
        yield* optional(fs.remove(file), file)
      }
      if (remove.length > 0) yield* syncDirectory(runsRoot)
    })

    yield* cleanStaleTemps

    return {
      location: root,
      certificatePaths,
      loadCertificate,
      loadCertificateKey,
      saveCertificate,
      updateMetadata,
      listCertificates,
      savePendingKey,
      loadPendingKey,
      deletePendingKey,
      loadAccount,
      saveAccountKey,
      saveAccountInfo,
      saveCheckpoint,
      loadCheckpoints,
      pruneCheckpoints
    }
  })
