/**
 * The contract of the `Storage` service: what it keeps (certificate metadata, account info, paths)
 * and its operations. `Storage` re-exports all of it; the memory and file system implementations
 * build it.
 */
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { CertificateName } from "../../CertificateName.js"
import { Identifier } from "../../Identifier.js"
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
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** the folder (or other location) this storage writes to, for messages */
  readonly location: string

  /** where a certificate's files are or will be */
  readonly certificatePaths: (name: CertificateName) => CertificatePaths
  /** the stored certificate of that name, if any */
  readonly loadCertificate: (name: CertificateName) => Effect.Effect<Option.Option<StoredCertificate>, StorageError>
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
  readonly saveAccountInfo: (directoryUrl: string, name: string, info: AccountInfo) => Effect.Effect<void, StorageError>

  /** saves a run checkpoint (JSON text) */
  readonly saveCheckpoint: (runId: string, json: string) => Effect.Effect<void, StorageError>
  /** every checkpoint, oldest first */
  readonly loadCheckpoints: Effect.Effect<ReadonlyArray<{ readonly runId: string; readonly json: string }>, StorageError>
  /** removes old checkpoints, keeping the newest `keep` */
  readonly pruneCheckpoints: (keep: number) => Effect.Effect<void, StorageError>

  /** tasks, API key hashes and the audit log of `acme serve`, when this storage keeps them */
  readonly records?: ServiceRecords.Store | undefined
}
