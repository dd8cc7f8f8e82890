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
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import { Identifier } from "./Identifier.js"
import * as fileStorage from "./internal/fileStorage.js"
import * as leasedStorage from "./internal/leasedStorage.js"
import type { Lease, LeaseError, LeaseHolder, LeaseRequest } from "./Lease.js"

/**
 * @since 0.1.0
 * @category errors
 */
export class StorageError extends Schema.TaggedError<StorageError>("@acme/sdk/StorageError")("StorageError", {
  reason: Schema.Literal("Io", "ReadOnly", "Full", "Corrupt", "InvalidName"),
  path: Schema.String,
  description: Schema.String
}) {
  override get message(): string {
    switch (this.reason) {
      case "ReadOnly":
        return `cannot write ${this.path}: the storage is not writable (${this.description}); make the storage folder (storage.path) writable for the user running acme, and remount its file system read-write if it is mounted read-only`
      case "Full":
        return `cannot write ${this.path}: the storage is full (${this.description}); free space on the file system of the storage folder (storage.path), then run acme again`
      case "Corrupt":
        return `cannot read ${this.path}: ${this.description}; fix or remove the file`
      case "InvalidName":
        return `${this.description}`
      default:
        return `storage failed at ${this.path}: ${this.description}; check storage.path, its free space and its permissions`
    }
  }
}

/**
 * What `metadata.json` holds about a stored certificate: enough to plan the next renewal without
 * parsing PEM, and to explain it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CertificateMetadata = Schema.Struct({
  version: Schema.Literal(1),
  name: Schema.String,
  identifiers: Schema.Array(Identifier),
  keyType: Schema.String,
  profile: Schema.optional(Schema.String),
  serialNumber: Schema.String,
  /** ARI CertID, when the certificate has an Authority Key Identifier */
  certId: Schema.optional(Schema.String),
  notBefore: Schema.String,
  notAfter: Schema.String,
  issuer: Schema.String,
  directoryUrl: Schema.String,
  accountUrl: Schema.optional(Schema.String),
  orderUrl: Schema.optional(Schema.String),
  issuedAt: Schema.String,
  /** the CA's last renewalInfo answer (RFC 9773), kept so that the next runs honour its Retry-After */
  renewalInfo: Schema.optional(Schema.Struct({
    start: Schema.String,
    end: Schema.String,
    explanationURL: Schema.optional(Schema.String),
    fetchedAt: Schema.String,
    /** do not ask again before this time */
    nextCheckAt: Schema.String
  })),
  /** set by `acme revoke`; a revoked certificate is renewed on the next run */
  revokedAt: Schema.optional(Schema.String),
  revocationReason: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export type CertificateMetadata = typeof CertificateMetadata.Type

/**
 * Where a certificate's files are (for deploy hooks and reports).
 *
 * @since 0.1.0
 * @category models
 */
export interface CertificatePaths {
  readonly directory: string
  readonly cert: string
  readonly chain: string
  readonly fullchain: string
  readonly privkey: string
  readonly metadata: string
}

/**
 * A stored certificate: its public parts and metadata (the private key is read separately, and only
 * when needed).
 *
 * @since 0.1.0
 * @category models
 */
export interface StoredCertificate {
  readonly name: string
  readonly fullchainPem: string
  readonly metadata: CertificateMetadata
  readonly paths: CertificatePaths
}

/**
 * What the account stage keeps about an account (never its key).
 *
 * @since 0.1.0
 * @category schemas
 */
export const AccountInfo = Schema.Struct({
  url: Schema.String,
  directoryUrl: Schema.String,
  contact: Schema.Array(Schema.String),
  createdAt: Schema.String,
  keyThumbprint: Schema.String
})

/**
 * @since 0.1.0
 * @category models
 */
export type AccountInfo = typeof AccountInfo.Type

/**
 * An account as stored: its private key (PEM, read at the moment of use) and, once registered, its
 * info.
 *
 * @since 0.1.0
 * @category models
 */
export interface StoredAccount {
  readonly keyPem: string
  readonly info: Option.Option<AccountInfo>
}

/**
 * The records a storage keeps: certificates, keys, accounts, checkpoints. The `Storage` tag gives
 * them together with `Leasing`; a write through `fenced(lease)` is the one to use for a certificate
 * that runs may share (the writes here are not checked against leases).
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** the folder (or other location) this storage writes to, for messages */
  readonly location: string

  /** where a certificate's files are or will be */
  readonly certificatePaths: (name: string) => CertificatePaths
  /** the stored certificate of that name, if any */
  readonly loadCertificate: (name: string) => Effect.Effect<Option.Option<StoredCertificate>, StorageError>
  /** the stored certificate's private key (PEM), if any */
  readonly loadCertificateKey: (name: string) => Effect.Effect<Option.Option<string>, StorageError>
  /** replaces the certificate's files (cert, chain, fullchain, privkey, metadata) all together */
  readonly saveCertificate: (certificate: {
    readonly name: string
    readonly certPem: string
    readonly chainPem: string
    readonly fullchainPem: string
    readonly keyPem: string
    readonly metadata: CertificateMetadata
  }) => Effect.Effect<CertificatePaths, StorageError>
  /** rewrites metadata.json of a stored certificate (e.g. after revocation) */
  readonly updateMetadata: (name: string, metadata: CertificateMetadata) => Effect.Effect<void, StorageError>
  /** names of the stored certificates */
  readonly listCertificates: Effect.Effect<ReadonlyArray<string>, StorageError>

  /** a new certificate key, saved before finalize; returns a reference to put in the state record */
  readonly savePendingKey: (name: string, runId: string, keyPem: string) => Effect.Effect<string, StorageError>
  readonly loadPendingKey: (reference: string) => Effect.Effect<Option.Option<string>, StorageError>
  readonly deletePendingKey: (reference: string) => Effect.Effect<void, StorageError>

  /** the account of that name at that CA (directory URL), if any */
  readonly loadAccount: (directoryUrl: string, name: string) => Effect.Effect<Option.Option<StoredAccount>, StorageError>
  /** saves (or replaces, on key rollover) the account's private key; mode 0600 */
  readonly saveAccountKey: (directoryUrl: string, name: string, keyPem: string) => Effect.Effect<void, StorageError>
  readonly saveAccountInfo: (directoryUrl: string, name: string, info: AccountInfo) => Effect.Effect<void, StorageError>

  /** saves a run checkpoint (JSON text) */
  readonly saveCheckpoint: (runId: string, json: string) => Effect.Effect<void, StorageError>
  /** every checkpoint, oldest first, with the holder that owns it (when saved by `saveRunCheckpoint`) */
  readonly loadCheckpoints: Effect.Effect<
    ReadonlyArray<{ readonly runId: string; readonly json: string; readonly holder?: LeaseHolder }>,
    StorageError
  >
  /** removes old checkpoints, keeping the newest `keep` */
  readonly pruneCheckpoints: (keep: number) => Effect.Effect<void, StorageError>
}

/**
 * A certificate's files, as a fenced write stores them (the name is the lease's certificate).
 *
 * @since 0.1.0
 * @category models
 */
export interface CertificateFiles {
  readonly certPem: string
  readonly chainPem: string
  readonly fullchainPem: string
  readonly keyPem: string
  readonly metadata: CertificateMetadata
}

/**
 * The writes for one certificate, fenced by a lease on it (see the `Lease` module). Each one checks
 * that the lease is still the current one and writes, in one step; once it is not, the write is
 * refused with `LeaseError` `Lost` and nothing is written.
 *
 * @since 0.1.0
 * @category models
 */
export interface FencedWrites {
  readonly lease: Lease
  /** as `saveCertificate`, for the lease's certificate */
  readonly saveCertificate: (files: CertificateFiles) => Effect.Effect<CertificatePaths, StorageError | LeaseError>
  /** as `updateMetadata` (nothing stored, nothing to update) */
  readonly updateMetadata: (metadata: CertificateMetadata) => Effect.Effect<void, StorageError | LeaseError>
  /** as `savePendingKey`, under the holder's run id */
  readonly savePendingKey: (keyPem: string) => Effect.Effect<string, StorageError | LeaseError>
  /** as `deletePendingKey`, for a pending key of the lease's certificate (of any run) */
  readonly deletePendingKey: (reference: string) => Effect.Effect<void, StorageError | LeaseError>
}

/**
 * The lease half of the Storage service: leases on certificates with fencing tokens, the writes
 * they fence, and run checkpoints that name their owner. The rules are in the `Lease` module.
 *
 * @since 0.1.0
 * @category models
 */
export interface Leasing {
  /** grants a lease, or fails with `Held` (non-blocking) */
  readonly acquireLease: (request: LeaseRequest) => Effect.Effect<Lease, LeaseError | StorageError>
  /** extends the lease to `ttl` from now, or fails with `Lost` */
  readonly renewLease: (lease: Lease, ttl: Duration.DurationInput) => Effect.Effect<Lease, LeaseError | StorageError>
  /** ends the lease; does nothing when it is lost or released already */
  readonly releaseLease: (lease: Lease) => Effect.Effect<void, StorageError>
  /** the certificate's live lease, if any */
  readonly loadLease: (certificate: string) => Effect.Effect<Option.Option<Lease>, StorageError>
  /** every live lease, by certificate name */
  readonly listLeases: Effect.Effect<ReadonlyArray<Lease>, StorageError>
  /** the certificate's writes, fenced by `lease` */
  readonly fenced: (lease: Lease) => FencedWrites
  /**
   * Saves the checkpoint of the holder's run (`holder.runId`) and records the holder as its owner.
   * Refused with `RunOwned` when the run's checkpoint belongs to another holder, and with `Lost`
   * when `lease` (the lease of the certificate the checkpoint is about) is not current.
   */
  readonly saveRunCheckpoint: (checkpoint: {
    readonly holder: LeaseHolder
    readonly json: string
    readonly lease?: Lease | undefined
  }) => Effect.Effect<void, StorageError | LeaseError>
}

/**
 * The service: the records (`Service`) and the leases that fence the writes to them (`Leasing`).
 *
 * @since 0.1.0
 * @category tags
 */
export class Storage extends Context.Tag("@acme/sdk/Storage")<Storage, Service & Leasing>() {}

/**
 * Whether a certificate name is safe as a path segment (no separators, no `..`, no control
 * characters). Checked again by every Storage before a name touches a path.
 *
 * @since 0.1.0
 * @category guards
 */
export const isSafeName = (name: string): boolean => /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/.test(name)

/**
 * Fails with InvalidName unless `isSafeName`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const checkName = (name: string): Effect.Effect<string, StorageError> =>
  isSafeName(name)
    ? Effect.succeed(name)
    : Effect.fail(
      new StorageError({
        reason: "InvalidName",
        path: name,
        description: `"${name}" cannot be a certificate name: use letters, digits, ".", "_" or "-" (no "/", "..", spaces or control characters)`
      })
    )

const names = {
  check: checkName,
  invalid: (path: string, description: string) => new StorageError({ reason: "InvalidName", path, description })
}

/**
 * A folder-safe name for a CA: its host and port, e.g. `acme-v02.api.letsencrypt.org` or
 * `127.0.0.1_14000`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const caFolder = (directoryUrl: string): string => {
  const url = URL.canParse(directoryUrl) ? new URL(directoryUrl) : undefined
  const host = url === undefined ? "unknown" : url.port === "" ? url.hostname : `${url.hostname}_${url.port}`
  return host.replace(/[^A-Za-z0-9._-]/g, "_")
}

/** A pending key reference is `pending/<safe name>` and nothing else. */
const checkPendingReference = (reference: string): Effect.Effect<string, StorageError> =>
  /^pending\/[A-Za-z0-9_-][A-Za-z0-9._-]{0,200}$/.test(reference) && !reference.includes("..")
    ? Effect.succeed(reference)
    : Effect.fail(
      new StorageError({ reason: "InvalidName", path: reference, description: `"${reference}" is not a pending key reference` })
    )

interface MemoryState {
  readonly certificates: ReadonlyMap<string, {
    readonly certPem: string
    readonly chainPem: string
    readonly fullchainPem: string
    readonly keyPem: string
    readonly metadata: CertificateMetadata
  }>
  readonly pending: ReadonlyMap<string, string>
  readonly accounts: ReadonlyMap<string, { readonly keyPem: string; readonly info: Option.Option<AccountInfo> }>
  readonly checkpoints: ReadonlyArray<{ readonly runId: string; readonly json: string }>
}

const makeMemoryRecords: Effect.Effect<Service> = Effect.map(
  Ref.make<MemoryState>({ certificates: new Map(), pending: new Map(), accounts: new Map(), checkpoints: [] }),
  (ref): Service => {
    const paths = (name: string): CertificatePaths => ({
      directory: `memory:live/${name}`,
      cert: `memory:live/${name}/cert.pem`,
      chain: `memory:live/${name}/chain.pem`,
      fullchain: `memory:live/${name}/fullchain.pem`,
      privkey: `memory:live/${name}/privkey.pem`,
      metadata: `memory:live/${name}/metadata.json`
    })
    const accountKey = (directoryUrl: string, name: string) => `${caFolder(directoryUrl)}/${name}`
    const update = (f: (state: MemoryState) => MemoryState) => Ref.update(ref, f)
    return {
      location: "memory",
      certificatePaths: paths,
      loadCertificate: (name) =>
        Effect.flatMap(checkName(name), () =>
          Effect.map(Ref.get(ref), (state) =>
            Option.map(Option.fromNullable(state.certificates.get(name)), (stored) => ({
              name,
              fullchainPem: stored.fullchainPem,
              metadata: stored.metadata,
              paths: paths(name)
            })))),
      loadCertificateKey: (name) =>
        Effect.flatMap(checkName(name), () =>
          Effect.map(Ref.get(ref), (state) =>
            Option.map(Option.fromNullable(state.certificates.get(name)), (stored) => stored.keyPem))),
      saveCertificate: (certificate) =>
        Effect.flatMap(checkName(certificate.name), (name) =>
          Effect.as(
            update((state) => ({
              ...state,
              certificates: new Map(state.certificates).set(name, {
                certPem: certificate.certPem,
                chainPem: certificate.chainPem,
                fullchainPem: certificate.fullchainPem,
                keyPem: certificate.keyPem,
                metadata: certificate.metadata
              })
            })),
            paths(name)
          )),
      updateMetadata: (name, metadata) =>
        Effect.flatMap(checkName(name), () =>
          update((state) => {
            const stored = state.certificates.get(name)
            return stored === undefined
              ? state
              : { ...state, certificates: new Map(state.certificates).set(name, { ...stored, metadata }) }
          })),
      listCertificates: Effect.map(Ref.get(ref), (state) => [...state.certificates.keys()].sort()),
      savePendingKey: (name, runId, keyPem) =>
        Effect.flatMap(checkName(name), () => {
          const reference = `pending/${name}.${runId}.key`
          return Effect.as(update((state) => ({ ...state, pending: new Map(state.pending).set(reference, keyPem) })), reference)
        }),
      loadPendingKey: (reference) =>
        Effect.flatMap(checkPendingReference(reference), () =>
          Effect.map(Ref.get(ref), (state) => Option.fromNullable(state.pending.get(reference)))),
      deletePendingKey: (reference) =>
        Effect.zipRight(checkPendingReference(reference), update((state) => {
          const pending = new Map(state.pending)
          pending.delete(reference)
          return { ...state, pending }
        })),
      loadAccount: (directoryUrl, name) =>
        Effect.map(Ref.get(ref), (state) => Option.fromNullable(state.accounts.get(accountKey(directoryUrl, name)))),
      saveAccountKey: (directoryUrl, name, keyPem) =>
        update((state) => ({
          ...state,
          accounts: new Map(state.accounts).set(accountKey(directoryUrl, name), {
            keyPem,
            info: state.accounts.get(accountKey(directoryUrl, name))?.info ?? Option.none()
          })
        })),
      saveAccountInfo: (directoryUrl, name, info) =>
        update((state) => {
          const existing = state.accounts.get(accountKey(directoryUrl, name))
          return existing === undefined
            ? state
            : {
              ...state,
              accounts: new Map(state.accounts).set(accountKey(directoryUrl, name), { ...existing, info: Option.some(info) })
            }
        }),
      saveCheckpoint: (runId, json) =>
        update((state) => ({
          ...state,
          // ordered by run id, as the file storage lists them (run ids sort by time)
          checkpoints: [...state.checkpoints.filter((c) => c.runId !== runId), { runId, json }].sort((a, b) =>
            a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0
          )
        })),
      loadCheckpoints: Effect.map(Ref.get(ref), (state) => state.checkpoints),
      pruneCheckpoints: (keep) =>
        update((state) => ({
          ...state,
          checkpoints: keep <= 0 ? [] : state.checkpoints.slice(-keep)
        }))
    }
  }
)

/**
 * Storage in memory, for tests and for programs that keep certificates elsewhere. Its leases hold
 * within this storage value.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory: Effect.Effect<Service & Leasing> = Effect.flatMap(
  makeMemoryRecords,
  (records) => leasedStorage.make(records, names)
)

/**
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<Storage> = Layer.effect(Storage, makeMemory)

/**
 * Storage in a folder (see {@link layerFileSystem}). Its leases are kept in this process for now:
 * two processes on one folder do not see each other's leases yet (lock files are to come).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeFileSystem = (
  root: string
): Effect.Effect<Service & Leasing, never, FileSystem.FileSystem | Path.Path> =>
  Effect.flatMap(fileStorage.make(root), (records) => leasedStorage.make(records, names))

/**
 * Storage in a folder, with the layout above, atomic writes and 0600 private keys. Needs the
 * platform's `FileSystem` and `Path` (`NodeContext.layer` on Node).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFileSystem = (root: string): Layer.Layer<Storage, never, FileSystem.FileSystem | Path.Path> =>
  Layer.effect(Storage, makeFileSystem(root))
