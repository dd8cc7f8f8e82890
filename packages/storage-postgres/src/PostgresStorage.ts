/**
 * The SDK's `Storage` in Postgres, for several hosts renewing from one configuration: certificates,
 * chains, metadata, accounts, pending keys, run checkpoints and leases are rows of tables that
 * migrations create (`acme_*`, see `internal/migrations.ts`).
 *
 * - **Leases** are rows, and the fencing token is checked in the same transaction as each write
 *   (the rules are in the SDK's `Lease` module).
 * - **The records of `acme serve`** (`records`: its tasks, API key hashes and an append-only audit
 *   log) are rows too, so that several servers on one database share them.
 * - **Private keys** (account and certificate keys, and keys pending finalize) are encrypted at rest
 *   with AES-256-GCM under the `encryptionKey` (see `EncryptionKey`). Without a usable key nothing
 *   starts; with another key than the database was first written with, nothing starts either.
 * - **`export`**: a folder that also gets the certbot-style files (`live/<name>/cert.pem`,
 *   `privkey.pem` (0600), ...) of every certificate this process saves, written atomically by the
 *   SDK's file system storage inside the database transaction. The paths a deploy hook gets are
 *   these files.
 *
 * ```ts
 * import { PostgresStorage } from "@acme/storage-postgres"
 *
 * const StorageLive = PostgresStorage.layer({
 *   url: Redacted.make("postgres://acme@db.internal/acme"),
 *   encryptionKey: { env: "ACME_STORAGE_KEY" },
 *   export: "/etc/ssl/acme"
 * }) // Layer<Storage, StorageError | EncryptionKeyError, FileSystem | Path>
 * ```
 *
 * @since 0.1.0
 */
import { type Lease, LeaseError } from "@acme/sdk/Lease"
import * as Plugin from "@acme/sdk/Plugin"
import { SecretSource } from "@acme/sdk/RenewalConfig"
import * as Storage from "@acme/sdk/Storage"
import * as Reactivity from "@effect/experimental/Reactivity"
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as EncryptionKey from "./EncryptionKey.js"
import * as Cipher from "./internal/cipher.js"
import { describeUrl, mapSqlError, storageError } from "./internal/errors.js"
import * as Leases from "./internal/leases.js"
import * as Migrations from "./internal/migrations.js"
import * as Records from "./internal/records.js"
import * as ServiceRows from "./internal/serviceRecords.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** `postgres://user:password@host:port/database` */
  readonly url: Redacted.Redacted<string> | string
  /** where the key is, or the key itself */
  readonly encryptionKey: EncryptionKey.KeySource | EncryptionKey.EncryptionKey
  /** a folder that also gets the certbot-style files of every certificate saved by this process */
  readonly export?: string | undefined
  /** connections in the pool; default 10 */
  readonly maxConnections?: number | undefined
}

const keyCheckText = "acme-storage-postgres: encryption key check"
const keyCheckAad = "acme-storage-postgres/v1:key-check"

/**
 * Seals a known text into `acme_encryption_check` when the database has none, and opens the one it
 * has: a database is only ever written with one key.
 */
const checkKey = (sql: SqlClient.SqlClient, key: EncryptionKey.EncryptionKey) =>
  Effect.gen(function*() {
    const bytes = Redacted.value(key.bytes)
    yield* sql`INSERT INTO acme_encryption_check (id, sealed)
      VALUES (1, ${Cipher.seal(bytes, keyCheckText, keyCheckAad)}) ON CONFLICT (id) DO NOTHING`
    const rows = yield* sql<{ readonly sealed: Uint8Array }>`SELECT sealed FROM acme_encryption_check WHERE id = 1`
    const opened = Cipher.open(bytes, rows[0]?.sealed ?? new Uint8Array(), keyCheckAad)
    if (Either.isLeft(opened) || opened.right !== keyCheckText) {
      return yield* new EncryptionKey.EncryptionKeyError({
        reason: "Mismatch",
        source: key.source,
        description: "the database's key check does not open with it"
      })
    }
  })

/**
 * The storage on an SQL client that is connected already (the tables are created if needed).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromClient = (
  sql: SqlClient.SqlClient,
  options: {
    readonly key: EncryptionKey.EncryptionKey
    readonly location: string
    readonly export?: string | undefined
  }
): Effect.Effect<
  Storage.Service,
  Storage.StorageError | EncryptionKey.EncryptionKeyError,
  FileSystem.FileSystem | Path.Path
> =>
  Effect.gen(function*() {
    const { location } = options
    const db = (what: string) => mapSqlError(location, what)
    yield* Migrations.run.pipe(
      Effect.provideService(SqlClient.SqlClient, sql),
      Effect.catchTag("MigrationError", (error) =>
        new Storage.StorageError({
          reason: "Io",
          path: location,
          description: `the tables could not be created or migrated: ${error.message}`
        })),
      db("migrating the tables")
    )
    yield* checkKey(sql, options.key).pipe(db("checking the encryption key"))
    const exported = options.export === undefined
      ? Option.none()
      : Option.some(yield* Storage.makeFileSystem(options.export))
    const records = Records.make({ sql, key: Redacted.value(options.key.bytes), location, exported })
    const leases = Leases.make(sql)

    const lift = <Args extends ReadonlyArray<unknown>, A, E>(
      what: string,
      f: (...args: Args) => Effect.Effect<A, E | SqlError>
    ) =>
    (...args: Args): Effect.Effect<A, Exclude<E, SqlError> | Storage.StorageError> => db(what)(f(...args))

    const foreignPendingKey = (lease: Lease, reference: string) =>
      new Storage.StorageError({
        reason: "InvalidName",
        path: reference,
        description: `"${reference}" is not a pending key of ${lease.certificate}`
      })

    const fenced = (lease: Lease): Storage.FencedWrites => ({
      lease,
      // a lease's key is a certificate's name here (checked again, as every write checks it)
      saveCertificate: (files) =>
        Effect.flatMap(Storage.checkName(lease.certificate), (name) =>
          db("saving a certificate")(leases.fence(lease, records.saveCertificate({ name, ...files })))),
      updateMetadata: (metadata) =>
        Effect.flatMap(Storage.checkName(lease.certificate), (name) =>
          db("updating metadata")(leases.fence(lease, records.updateMetadata(name, metadata)))),
      savePendingKey: (keyPem) =>
        Effect.flatMap(Storage.checkName(lease.certificate), (name) =>
          db("saving a pending key")(leases.fence(lease, records.savePendingKey(name, lease.holder.runId, keyPem)))),
      deletePendingKey: (reference) =>
        reference.startsWith(`pending/${lease.certificate}.`)
          ? db("deleting a pending key")(leases.fence(lease, records.deletePendingKey(reference)))
          : Effect.fail(foreignPendingKey(lease, reference))
    })

    const saveRunCheckpoint: Storage.Leasing["saveRunCheckpoint"] = ({ append, holder, json, lease, replaces }) => {
      const save = Effect.flatMap(
        Records.saveOwnedCheckpoint(sql, holder, json, replaces, append),
        Option.match({
          onNone: () => Effect.void,
          onSome: (owner) => Effect.fail(new LeaseError({ reason: "RunOwned", runId: holder.runId, holder: owner }))
        })
      )
      return db("saving a checkpoint")(lease === undefined ? save : leases.fence(lease, save))
    }

    return {
      location,
      certificatePaths: records.certificatePaths,
      loadCertificate: lift("loading a certificate", records.loadCertificate),
      loadCertificateMetadata: lift("loading a certificate's metadata", records.loadCertificateMetadata),
      loadCertificateKey: lift("loading a certificate key", records.loadCertificateKey),
      saveCertificate: lift("saving a certificate", records.saveCertificate),
      updateMetadata: lift("updating metadata", records.updateMetadata),
      listCertificates: db("listing certificates")(records.listCertificates),
      savePendingKey: lift("saving a pending key", records.savePendingKey),
      loadPendingKey: lift("loading a pending key", records.loadPendingKey),
      deletePendingKey: lift("deleting a pending key", records.deletePendingKey),
      loadAccount: lift("loading an account", records.loadAccount),
      saveAccountKey: lift("saving an account key", records.saveAccountKey),
      createAccountKey: lift("saving an account key", records.createAccountKey),
      saveAccountInfo: lift("saving account info", records.saveAccountInfo),
      loadRolloverKey: lift("loading a rollover key", records.loadRolloverKey),
      saveRolloverKey: lift("saving a rollover key", records.saveRolloverKey),
      saveCheckpoint: lift("saving a checkpoint", records.saveCheckpoint),
      appendCheckpoint: lift("saving a checkpoint", records.appendCheckpoint),
      loadCheckpoints: db("loading checkpoints")(records.loadCheckpoints),
      pruneCheckpoints: lift("pruning checkpoints", records.pruneCheckpoints),
      acquireLease: lift("acquiring a lease", leases.acquireLease),
      renewLease: lift("renewing a lease", leases.renewLease),
      releaseLease: lift("releasing a lease", leases.releaseLease),
      loadLease: lift("loading a lease", leases.loadLease),
      listLeases: db("listing leases")(leases.listLeases),
      fenced,
      saveRunCheckpoint,
      records: ServiceRows.make(sql, location)
    }
  })

/**
 * Loads the key, connects (a pool that closes with the scope), migrates, checks the key against
 * the database, and returns the storage.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<
  Storage.Service,
  Storage.StorageError | EncryptionKey.EncryptionKeyError,
  Scope.Scope | FileSystem.FileSystem | Path.Path
> =>
  Effect.gen(function*() {
    // the key first: without it, nothing connects and nothing is written
    const key = "bytes" in options.encryptionKey
      ? options.encryptionKey
      : yield* EncryptionKey.load(options.encryptionKey)
    const url = typeof options.url === "string" ? Redacted.make(options.url) : options.url
    const location = describeUrl(Redacted.value(url))
    const sql = yield* PgClient.make({
      url,
      maxConnections: options.maxConnections ?? 10,
      applicationName: "acme"
    }).pipe(
      Effect.provide(Reactivity.layer),
      Effect.catchTag("SqlError", (error) => storageError(location, "cannot connect")(error))
    )
    return yield* fromClient(sql, { key, location, export: options.export })
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<
  Storage.Storage,
  Storage.StorageError | EncryptionKey.EncryptionKeyError,
  FileSystem.FileSystem | Path.Path
> => Layer.scoped(Storage.Storage, make(options))

/**
 * The options of `storage: { type: postgres, ... }` in the configuration file.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PluginOptions = Schema.Struct({
  /** a `postgres://` URL, or `{ env: NAME }` */
  url: SecretSource,
  /** `{ env: NAME }` or `{ file: PATH }` (relative to the configuration file's folder) */
  encryptionKey: EncryptionKey.KeySource,
  /** a folder for certbot-style copies of the certificates this host renews */
  export: Schema.optional(Schema.String.pipe(Schema.minLength(1)))
})

/**
 * The storage as a provider of `storage.type: postgres`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin: Plugin.Plugin<"storage", typeof PluginOptions.Type, typeof PluginOptions.Encoded> = Plugin.make({
  kind: "storage",
  name: "postgres",
  description: "Postgres: leases with fencing tokens for several hosts, private keys encrypted at rest",
  options: PluginOptions,
  make: (options, context) =>
    Effect.gen(function*() {
      const path = yield* Path.Path
      const url = typeof options.url === "string" ? options.url : yield* context.env(options.url.env)
      const encryptionKey = "env" in options.encryptionKey
        ? yield* Effect.flatMap(context.env(options.encryptionKey.env), (text) =>
          EncryptionKey.decode(text, EncryptionKey.describeSource(options.encryptionKey)))
        : yield* EncryptionKey.load({ file: path.resolve(context.configDirectory, options.encryptionKey.file) })
      return yield* make({
        url: Redacted.make(url),
        encryptionKey,
        export: options.export === undefined ? undefined : path.resolve(context.configDirectory, options.export)
      })
    }).pipe(
      Effect.mapError((error) =>
        error._tag === "PluginError" ? error : new Plugin.PluginError({ plugin: "postgres", description: error.message })
      )
    )
})
