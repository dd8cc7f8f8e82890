/**
 * The contract of the `Storage` service: what it keeps (certificate metadata, account info, paths),
 * its records and the leases that fence the writes to them. `Storage` re-exports all of it; the
 * memory and file system implementations build it.
 */
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { CertificateName } from "../../CertificateName.js"
import { PendingDeploy } from "../../DeployHook.js"
import { Identifier } from "../../Identifier.js"
import type { Lease, LeaseError, LeaseHolder, LeaseRequest } from "../../Lease.js"
import type * as ServiceRecords from "../../ServiceRecords.js"
import type { StorageError } from "../../StorageError.js"

/**
 * What `metadata.json` holds about a stored certificate: enough to plan the next renewal without
 * parsing PEM, and to explain it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CertificateMetadata = Schema.Struct({
  version: Schema.Literal(1),
  name: CertificateName,
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
    nextCheckAt: Schema.String,
    /**
     * why the window cannot be followed (`RenewalInfo.windowProblem`), when the CA gave the same
     * stale or absurd window again when asked once more: it is not asked again before `nextCheckAt`
     */
    ignored: Schema.optional(Schema.String)
  })),
  /** set by `acme revoke`; a revoked certificate is renewed on the next run */
  revokedAt: Schema.optional(Schema.String),
  revocationReason: Schema.optional(Schema.String),
  /** the deploy hook this certificate is still owed (stored, its hook not yet successful) */
  pendingDeploy: Schema.optional(PendingDeploy)
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
  readonly name: CertificateName
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
  keyThumbprint: Schema.String,
  /** when `acme account deactivate` deactivated it at the CA: it cannot be used again */
  deactivatedAt: Schema.optional(Schema.String)
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
 * The records a storage keeps: certificates, keys, accounts, checkpoints. The certificate writes
 * here are not checked against leases: `Service.fenced(lease)` gives the ones that are, for a
 * certificate that runs may share.
 *
 * @since 0.1.0
 * @category models
 */
export interface Records {
  /** the folder (or other location) this storage writes to, for messages */
  readonly location: string

  /** where a certificate's files are or will be */
  readonly certificatePaths: (name: CertificateName) => CertificatePaths
  /** the stored certificate of that name, if any */
  readonly loadCertificate: (name: CertificateName) => Effect.Effect<Option.Option<StoredCertificate>, StorageError>
  /**
   * the stored certificate's metadata alone, if any: what a scan reads (no PEM read, for `acme
   * status` over thousands of certificates)
   */
  readonly loadCertificateMetadata: (name: CertificateName) => Effect.Effect<Option.Option<CertificateMetadata>, StorageError>
  /** the stored certificate's private key (PEM), if any */
  readonly loadCertificateKey: (name: CertificateName) => Effect.Effect<Option.Option<string>, StorageError>
  /** replaces the certificate's files (cert, chain, fullchain, privkey, metadata) all together */
  readonly saveCertificate: (certificate: {
    readonly name: CertificateName
    readonly certPem: string
    readonly chainPem: string
    readonly fullchainPem: string
    readonly keyPem: string
    readonly metadata: CertificateMetadata
  }) => Effect.Effect<CertificatePaths, StorageError>
  /** rewrites metadata.json of a stored certificate (e.g. after revocation) */
  readonly updateMetadata: (name: CertificateName, metadata: CertificateMetadata) => Effect.Effect<void, StorageError>
  /** names of the stored certificates */
  readonly listCertificates: Effect.Effect<ReadonlyArray<CertificateName>, StorageError>

  /** a new certificate key, saved before finalize; returns a reference to put in the state record */
  readonly savePendingKey: (name: CertificateName, runId: string, keyPem: string) => Effect.Effect<string, StorageError>
  readonly loadPendingKey: (reference: string) => Effect.Effect<Option.Option<string>, StorageError>
  readonly deletePendingKey: (reference: string) => Effect.Effect<void, StorageError>

  /** the account of that name at that CA (directory URL), if any */
  readonly loadAccount: (directoryUrl: string, name: string) => Effect.Effect<Option.Option<StoredAccount>, StorageError>
  /** saves (or replaces, on key rollover) the account's private key; mode 0600 */
  readonly saveAccountKey: (directoryUrl: string, name: string, keyPem: string) => Effect.Effect<void, StorageError>
  /**
   * Saves the key of a new account unless the account has a key already, in one step: runs that
   * set the account up at the same time all end up with the key that was saved first. Returns
   * the stored key (this one, or that first one).
   */
  readonly createAccountKey: (directoryUrl: string, name: string, keyPem: string) => Effect.Effect<string, StorageError>
  readonly saveAccountInfo: (directoryUrl: string, name: string, info: AccountInfo) => Effect.Effect<void, StorageError>
  /**
   * the new key of an account key rollover in progress, if any: saved (0600) before the CA is asked
   * to switch, so that a rollover the CA completed is completed here too. It belongs to the
   * account (`accounts/<ca>/<name>/rollover.key`), never to an account name of its own.
   */
  readonly loadRolloverKey: (directoryUrl: string, name: string) => Effect.Effect<Option.Option<string>, StorageError>
  /** saves the rollover's new key, or removes it (`Option.none()`) once the rollover is recorded */
  readonly saveRolloverKey: (
    directoryUrl: string,
    name: string,
    keyPem: Option.Option<string>
  ) => Effect.Effect<void, StorageError>

  /** saves a run checkpoint (JSON text), replacing the run's checkpoint and what was appended to it */
  readonly saveCheckpoint: (runId: string, json: string) => Effect.Effect<void, StorageError>
  /**
   * appends a change (one line of JSON text, no line break) to the run's checkpoint, after a line
   * break: `loadCheckpoints` then gives the checkpoint's text followed by `"\n" + change` for each
   * (`RenewalState.decode` reads them). Costs the change's size, not the checkpoint's. Durable
   * when it succeeds; a crash during it leaves the checkpoint as it was (a storage that appends in
   * place may leave part of the change at the end, which `RenewalState.decode` leaves out). Fails
   * when the run has no checkpoint.
   */
  readonly appendCheckpoint: (runId: string, change: string) => Effect.Effect<void, StorageError>
  /** every checkpoint, oldest first, with the holder that owns it (when saved by `saveRunCheckpoint`) */
  readonly loadCheckpoints: Effect.Effect<
    ReadonlyArray<{ readonly runId: string; readonly json: string; readonly holder?: LeaseHolder }>,
    StorageError
  >
  /** removes old checkpoints, keeping the newest `keep` */
  readonly pruneCheckpoints: (keep: number) => Effect.Effect<void, StorageError>

  /** tasks, API key hashes and the audit log of `acme serve`, when this storage keeps them */
  readonly records?: ServiceRecords.Store | undefined
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
  /** grants a lease on a certificate (or a run: `Lease.runKey`), or fails with `Held` (non-blocking) */
  readonly acquireLease: (request: LeaseRequest) => Effect.Effect<Lease, LeaseError | StorageError>
  /** extends the lease to `ttl` from now, or fails with `Lost` */
  readonly renewLease: (lease: Lease, ttl: Duration.DurationInput) => Effect.Effect<Lease, LeaseError | StorageError>
  /** ends the lease; does nothing when it is lost or released already */
  readonly releaseLease: (lease: Lease) => Effect.Effect<void, StorageError>
  /** the certificate's live lease, if any */
  readonly loadLease: (certificate: string) => Effect.Effect<Option.Option<Lease>, StorageError>
  /** every live lease, by key (certificate names, then run keys) */
  readonly listLeases: Effect.Effect<ReadonlyArray<Lease>, StorageError>
  /** the certificate's writes, fenced by `lease` */
  readonly fenced: (lease: Lease) => FencedWrites
  /**
   * Saves the checkpoint of the holder's run (`holder.runId`) and records the holder as its owner.
   * Refused with `RunOwned` when the run's checkpoint belongs to another holder than `holder` or
   * `replaces` (the owner a resumed run takes it over from), and with `Lost` when `lease` (the
   * lease of the certificate the checkpoint is about) is not current.
   */
  readonly saveRunCheckpoint: (checkpoint: {
    readonly holder: LeaseHolder
    readonly json: string
    /** `json` is a change to append to the run's checkpoint (`appendCheckpoint`), not a whole one */
    readonly append?: boolean | undefined
    readonly lease?: Lease | undefined
    readonly replaces?: LeaseHolder | undefined
  }) => Effect.Effect<void, StorageError | LeaseError>
}

/**
 * The `Storage` service: the records and the leases that fence the writes to them.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service extends Records, Leasing {}
