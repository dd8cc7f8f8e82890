/**
 * Where certificates, keys, accounts and run checkpoints live.
 *
 * The file system Layer keeps the layout operators know from certbot:
 *
 * ```
 * <root>/live/<name>/cert.pem chain.pem fullchain.pem privkey.pem metadata.json
 * <root>/accounts/<ca host>/<account name>/account.key (0600) account.json
 * <root>/runs/<run id>.json
 * <root>/pending/<name>.<run id>.key   a new certificate key, written before finalize
 * ```
 *
 * Every write is atomic (temp file in the same folder, fsync, rename); private keys are mode 0600.
 * A certificate's files are replaced all together: the file system Layer writes a new version folder
 * under `archive/<name>/` and then switches the `live/<name>` symbolic link in one rename. A reader
 * that resolves `live/<name>` once (opens the folder, or `realpath`) reads a matching set; one that
 * opens `live/<name>/cert.pem` and `privkey.pem` separately while a renewal switches the link can get
 * one file of each set (web servers reload after the deploy hook, when the switch is done).
 *
 * @since 0.1.0
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as FileServiceRecords from "./FileServiceRecords.js"
import * as fileStorage from "./internal/fileStorage.js"
import * as memoryStorage from "./internal/storage/memory.js"
import type { Service } from "./internal/storage/service.js"
import { StorageError } from "./StorageError.js"

export { caFolder, checkLeaseKey, checkName, isSafeName } from "./internal/storage/names.js"
export {
  AccountInfo,
  type CertificateFiles,
  CertificateMetadata,
  type CertificatePaths,
  type FencedWrites,
  type Leasing,
  type Records,
  type Service,
  type StoredAccount,
  type StoredCertificate
} from "./internal/storage/service.js"
export { StorageError }

/**
 * The service: the records and the leases that fence the writes to them (see the `Lease` module).
 *
 * @since 0.1.0
 * @category tags
 */
export class Storage extends Context.Tag("@acme/sdk/Storage")<Storage, Service>() {}

/**
 * Storage in memory, for tests and for programs that keep certificates elsewhere. Its leases hold
 * within this storage value.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory: Effect.Effect<Service> = memoryStorage.makeMemory

/**
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<Storage> = Layer.effect(Storage, makeMemory)

/**
 * Storage in a folder (see {@link layerFileSystem}). Its leases are records under `leases/`, each
 * operation on them (and each fenced write) under a lock file: processes of one host that share the
 * folder see each other's leases; several hosts need a storage with transactions (Postgres).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeFileSystem = (root: string): Effect.Effect<Service, never, FileSystem.FileSystem | Path.Path> =>
  Effect.zipWith(
    fileStorage.make(root),
    FileServiceRecords.make(root),
    (storage, records): Service => ({ ...storage, records })
  )

/**
 * Storage in a folder, with the layout above, atomic writes and 0600 private keys. Needs the
 * platform's `FileSystem` and `Path` (`NodeContext.layer` on Node).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFileSystem = (root: string): Layer.Layer<Storage, never, FileSystem.FileSystem | Path.Path> =>
  Layer.effect(Storage, makeFileSystem(root))
