/**
 * Certificates, chains, metadata, accounts, pending keys and run checkpoints as rows. Private keys
 * are sealed (AES-256-GCM, `cipher.ts`) before they leave the process and opened after they come
 * back; nothing else is secret. A certificate's rows are written in one transaction, together with
 * its export to the file system when there is one: a reader sees the old set or the new one.
 *
 * Errors are `SqlError` (mapped at the service's edge) or `StorageError` (bad names, corrupt rows).
 */
import * as CertificateName from "@acme/sdk/CertificateName"
import type { LeaseHolder } from "@acme/sdk/Lease"
import {
  AccountInfo,
  CertificateMetadata,
  type CertificatePaths,
  checkName,
  type Records as StorageRecords,
  type Service,
  StorageError
} from "@acme/sdk/Storage"
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Cipher from "./cipher.js"
import { corrupt } from "./errors.js"

/** What the record operations need. */
export interface Context {
  readonly sql: SqlClient.SqlClient
  readonly key: Cipher.Key
  /** the URL without its password, for messages */
  readonly location: string
  /** `export`: the file system storage that gets a copy of every certificate */
  readonly exported: Option.Option<Service>
}

/** The records with errors not yet mapped. */
export type Records = {
  readonly [K in keyof StorageRecords]: StorageRecords[K] extends (...args: infer P) => Effect.Effect<infer A, infer _E>
    ? (...args: P) => Effect.Effect<A, StorageError | SqlError>
    : StorageRecords[K] extends Effect.Effect<infer A, infer _E> ? Effect.Effect<A, StorageError | SqlError>
    : StorageRecords[K]
}

/** what every sealed key's additional data starts with */
const aadPrefix = "acme-storage-postgres/v1"

/** @internal */
export const aad = {
  certificate: (name: string) => `${aadPrefix}:certificate:${name}`,
  account: (directoryUrl: string, name: string) => `${aadPrefix}:account:${directoryUrl}\n${name}`,
  rollover: (directoryUrl: string, name: string) => `${aadPrefix}:rollover:${directoryUrl}\n${name}`,
  pending: (reference: string) => `${aadPrefix}:pending:${reference}`
}

const pendingReference = /^pending\/[A-Za-z0-9_-][A-Za-z0-9._-]{0,200}\.key$/

const describeParseError = (error: ParseResult.ParseError): string =>
  ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) =>
    issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message
  )[0] ?? "does not match"

/** @internal */
export const make = (context: Context): Records => {
  const { exported, key, location, sql } = context
  const where = (what: string) => `${location} (${what})`

  const open = (sealed: Uint8Array, additional: string, what: string) =>
    Either.match(Cipher.open(key, sealed, additional), {
      onLeft: (reason) => Effect.fail(corrupt(where(what), `cannot decrypt the private key: ${reason}`)),
      onRight: Effect.succeed
    })

  const decode = <A, I>(schema: Schema.Schema<A, I>, value: unknown, what: string) =>
    Effect.mapError(
      Schema.decodeUnknown(schema)(value),
      (error) => corrupt(where(what), describeParseError(error))
    )

  const checkPending = (reference: string) =>
    pendingReference.test(reference) && !reference.includes("..")
      ? Effect.succeed(reference)
      : Effect.fail(
        new StorageError({
          reason: "InvalidName",
          path: reference,
          description: `"${reference}" is not a pending key reference (pending/<name>.<run id>.key)`
        })
      )

  const certificatePaths = (name: CertificateName.CertificateName): CertificatePaths =>
    Option.match(exported, {
      onSome: (files) => files.certificatePaths(name),
      onNone: () => {
        const directory = `postgres:live/${name}`
        return {
          directory,
          cert: `${directory}/cert.pem`,
          chain: `${directory}/chain.pem`,
          fullchain: `${directory}/fullchain.pem`,
          privkey: `${directory}/privkey.pem`,
          metadata: `${directory}/metadata.json`
        }
      }
    })

  const saveCertificate: Records["saveCertificate"] = (certificate) =>
    Effect.gen(function*() {
      const name = yield* checkName(certificate.name)
      const metadata = yield* Schema.encode(CertificateMetadata)(certificate.metadata).pipe(
        Effect.mapError((error) => corrupt(where(name), `the metadata does not encode: ${describeParseError(error)}`))
      )
      const sealed = Cipher.seal(key, certificate.keyPem, aad.certificate(name))
      return yield* sql.withTransaction(Effect.gen(function*() {
        yield* sql`INSERT INTO acme_certificates (name, cert_pem, private_key, version)
          VALUES (${name}, ${certificate.certPem}, ${sealed}, 1)
          ON CONFLICT (name) DO UPDATE SET cert_pem = EXCLUDED.cert_pem, private_key = EXCLUDED.private_key,
            version = acme_certificates.version + 1, saved_at = now()`
        yield* sql`INSERT INTO acme_chains (name, chain_pem, fullchain_pem)
          VALUES (${name}, ${certificate.chainPem}, ${certificate.fullchainPem})
          ON CONFLICT (name) DO UPDATE SET chain_pem = EXCLUDED.chain_pem, fullchain_pem = EXCLUDED.fullchain_pem`
        yield* sql`INSERT INTO acme_certificate_metadata (name, metadata)
          VALUES (${name}, ${JSON.stringify(metadata)}::jsonb)
          ON CONFLICT (name) DO UPDATE SET metadata = EXCLUDED.metadata, updated_at = now()`
        // last, inside the transaction: a failed export undoes the rows, and a newer grant waits for it
        if (Option.isSome(exported)) return yield* exported.value.saveCertificate(certificate)
        return certificatePaths(name)
      }))
    })

  const loadCertificate: Records["loadCertificate"] = (name) =>
    Effect.gen(function*() {
      yield* checkName(name)
      const rows = yield* sql<{ readonly fullchain_pem: string; readonly metadata: unknown }>`
        SELECT ch.fullchain_pem, m.metadata FROM acme_certificates c
        JOIN acme_chains ch ON ch.name = c.name JOIN acme_certificate_metadata m ON m.name = c.name
        WHERE c.name = ${name}`
      const row = rows[0]
      if (row === undefined) return Option.none()
      const metadata = yield* decode(CertificateMetadata, row.metadata, `metadata of ${name}`)
      return Option.some({ name, fullchainPem: row.fullchain_pem, metadata, paths: certificatePaths(name) })
    })

  const loadCertificateMetadata: Records["loadCertificateMetadata"] = (name) =>
    Effect.gen(function*() {
      yield* checkName(name)
      const rows = yield* sql<{ readonly metadata: unknown }>`
        SELECT m.metadata FROM acme_certificates c JOIN acme_certificate_metadata m ON m.name = c.name
        WHERE c.name = ${name}`
      const row = rows[0]
      if (row === undefined) return Option.none()
      return Option.some(yield* decode(CertificateMetadata, row.metadata, `metadata of ${name}`))
    })

  const loadCertificateKey: Records["loadCertificateKey"] = (name) =>
    Effect.gen(function*() {
      yield* checkName(name)
      const rows = yield* sql<{ readonly private_key: Uint8Array }>`
        SELECT private_key FROM acme_certificates WHERE name = ${name}`
      const row = rows[0]
      if (row === undefined) return Option.none()
      return Option.some(yield* open(row.private_key, aad.certificate(name), `private key of ${name}`))
    })

  const updateMetadata: Records["updateMetadata"] = (name, metadata) =>
    Effect.gen(function*() {
      yield* checkName(name)
      const encoded = yield* Schema.encode(CertificateMetadata)(metadata).pipe(
        Effect.mapError((error) => corrupt(where(name), `the metadata does not encode: ${describeParseError(error)}`))
      )
      yield* sql.withTransaction(Effect.gen(function*() {
        // like the other storages: nothing stored, nothing to update
        const updated = yield* sql`UPDATE acme_certificate_metadata
          SET metadata = ${JSON.stringify(encoded)}::jsonb, updated_at = now()
          WHERE name = ${name} RETURNING name`
        if (updated.length > 0 && Option.isSome(exported)) yield* exported.value.updateMetadata(name, metadata)
      }))
    })

  const savePendingKey: Records["savePendingKey"] = (name, runId, keyPem) =>
    Effect.gen(function*() {
      yield* checkName(name)
      yield* checkName(runId)
      const reference = `pending/${name}.${runId}.key`
      const sealed = Cipher.seal(key, keyPem, aad.pending(reference))
      yield* sql`INSERT INTO acme_pending_keys (reference, certificate, run_id, private_key)
        VALUES (${reference}, ${name}, ${runId}, ${sealed})
        ON CONFLICT (reference) DO UPDATE SET private_key = EXCLUDED.private_key, created_at = now()`
      return reference
    })

  const loadPendingKey: Records["loadPendingKey"] = (reference) =>
    Effect.gen(function*() {
      yield* checkPending(reference)
      const rows = yield* sql<{ readonly private_key: Uint8Array }>`
        SELECT private_key FROM acme_pending_keys WHERE reference = ${reference}`
      const row = rows[0]
      if (row === undefined) return Option.none()
      return Option.some(yield* open(row.private_key, aad.pending(reference), reference))
    })

  const deletePendingKey: Records["deletePendingKey"] = (reference) =>
    Effect.zipRight(checkPending(reference), sql`DELETE FROM acme_pending_keys WHERE reference = ${reference}`).pipe(
      Effect.asVoid
    )

  const loadAccount: Records["loadAccount"] = (directoryUrl, name) =>
    Effect.gen(function*() {
      yield* checkName(name)
      const rows = yield* sql<{ readonly private_key: Uint8Array; readonly info: unknown }>`
        SELECT private_key, info FROM acme_accounts WHERE directory_url = ${directoryUrl} AND name = ${name}`
      const row = rows[0]
      if (row === undefined) return Option.none()
      const what = `account ${name} at ${directoryUrl}`
      const keyPem = yield* open(row.private_key, aad.account(directoryUrl, name), what)
      const info = row.info === null ? Option.none() : Option.some(yield* decode(AccountInfo, row.info, what))
      return Option.some({ keyPem, info })
    })

  const saveAccountKey: Records["saveAccountKey"] = (directoryUrl, name, keyPem) =>
    Effect.gen(function*() {
      yield* checkName(name)
      const sealed = Cipher.seal(key, keyPem, aad.account(directoryUrl, name))
      yield* sql`INSERT INTO acme_accounts (directory_url, name, private_key)
        VALUES (${directoryUrl}, ${name}, ${sealed})
        ON CONFLICT (directory_url, name) DO UPDATE SET private_key = EXCLUDED.private_key, updated_at = now()`
    })

  const createAccountKey: Records["createAccountKey"] = (directoryUrl, name, keyPem) =>
    Effect.gen(function*() {
      yield* checkName(name)
      const sealed = Cipher.seal(key, keyPem, aad.account(directoryUrl, name))
      const inserted = yield* sql`INSERT INTO acme_accounts (directory_url, name, private_key)
        VALUES (${directoryUrl}, ${name}, ${sealed})
        ON CONFLICT (directory_url, name) DO NOTHING RETURNING name`
      if (inserted.length > 0) return keyPem
      // another run saved the account's key first: that one is the account's
      const stored = yield* loadAccount(directoryUrl, name)
      return Option.isSome(stored) ? stored.value.keyPem : yield* createAccountKey(directoryUrl, name, keyPem)
    })

  const saveAccountInfo: Records["saveAccountInfo"] = (directoryUrl, name, info) =>
    Effect.gen(function*() {
      yield* checkName(name)
      const encoded = yield* Schema.encode(AccountInfo)(info).pipe(
        Effect.mapError((error) => corrupt(where(name), `the account info does not encode: ${describeParseError(error)}`))
      )
      // like the other storages: the info belongs to a stored key
      yield* sql`UPDATE acme_accounts SET info = ${JSON.stringify(encoded)}::jsonb, updated_at = now()
        WHERE directory_url = ${directoryUrl} AND name = ${name}`
    })

  const loadRolloverKey: Records["loadRolloverKey"] = (directoryUrl, name) =>
    Effect.gen(function*() {
      yield* checkName(name)
      const rows = yield* sql<{ readonly rollover_key: Uint8Array | null }>`
        SELECT rollover_key FROM acme_accounts WHERE directory_url = ${directoryUrl} AND name = ${name}`
      const sealed = rows[0]?.rollover_key
      if (sealed === undefined || sealed === null) return Option.none()
      return Option.some(yield* open(sealed, aad.rollover(directoryUrl, name), `the rollover key of account ${name} at ${directoryUrl}`))
    })

  const saveRolloverKey: Records["saveRolloverKey"] = (directoryUrl, name, keyPem) =>
    Effect.gen(function*() {
      yield* checkName(name)
      const sealed = Option.isSome(keyPem) ? Cipher.seal(key, keyPem.value, aad.rollover(directoryUrl, name)) : null
      // staged next to the account's own key: a rollover needs the account first
      yield* sql`UPDATE acme_accounts SET rollover_key = ${sealed}, updated_at = now()
        WHERE directory_url = ${directoryUrl} AND name = ${name}`
    })

  const saveCheckpoint: Records["saveCheckpoint"] = (runId, json) =>
    Effect.zipRight(
      checkName(runId),
      sql`INSERT INTO acme_runs (run_id, checkpoint) VALUES (${runId}, ${json})
        ON CONFLICT (run_id) DO UPDATE SET checkpoint = EXCLUDED.checkpoint, saved_at = now()`
    ).pipe(Effect.asVoid)

  // the server appends (a TOASTed text is rewritten there, but nothing of its size crosses the wire)
  const appendCheckpoint: Records["appendCheckpoint"] = (runId, change) =>
    Effect.gen(function*() {
      yield* checkName(runId)
      const appended = yield* sql`UPDATE acme_runs SET checkpoint = checkpoint || ${`\n${change}`}, saved_at = now()
        WHERE run_id = ${runId} RETURNING run_id`
      if (appended.length === 0) yield* noCheckpoint(runId)
    })

  const loadCheckpoints: Records["loadCheckpoints"] = Effect.map(
    sql<{
      readonly run_id: string
      readonly checkpoint: string
      readonly holder_host: string | null
      readonly holder_pid: number | null
    }>`SELECT run_id, checkpoint, holder_host, holder_pid FROM acme_runs ORDER BY run_id`,
    (rows) =>
      rows.map((row) =>
        row.holder_host === null || row.holder_pid === null
          ? { runId: row.run_id, json: row.checkpoint }
          : {
            runId: row.run_id,
            json: row.checkpoint,
            holder: { runId: row.run_id, host: row.holder_host, pid: row.holder_pid } satisfies LeaseHolder
          }
      )
  )

  const pruneCheckpoints: Records["pruneCheckpoints"] = (keep) =>
    sql`DELETE FROM acme_runs WHERE run_id NOT IN (
      SELECT run_id FROM acme_runs ORDER BY run_id DESC LIMIT ${Math.max(0, Math.floor(keep))})`.pipe(Effect.asVoid)

  return {
    location,
    certificatePaths,
    loadCertificate,
    loadCertificateMetadata,
    loadCertificateKey,
    saveCertificate,
    updateMetadata,
    listCertificates: Effect.map(
      sql<{ readonly name: string }>`SELECT name FROM acme_certificates ORDER BY name`,
      // names were checked when written; one that is not a name (edited by hand) is left out, as a folder would be
      (rows) => rows.map((row) => row.name).filter(CertificateName.is)
    ),
    savePendingKey,
    loadPendingKey,
    deletePendingKey,
    loadAccount,
    saveAccountKey,
    createAccountKey,
    saveAccountInfo,
    loadRolloverKey,
    saveRolloverKey,
    saveCheckpoint,
    appendCheckpoint,
    loadCheckpoints,
    pruneCheckpoints
  }
}

const noCheckpoint = (runId: string) =>
  Effect.fail(
    new StorageError({ reason: "Io", path: `runs/${runId}`, description: "there is no checkpoint of this run to append to" })
  )

/**
 * Saves the checkpoint of the holder's run, as its owner (or appends a change to it, with `append`): the row is written only when it is new,
 * already the holder's, or the one of `replaces` (which the holder takes it over from). Returns the
 * owner found otherwise.
 *
 * @internal
 */
export const saveOwnedCheckpoint = (
  sql: SqlClient.SqlClient,
  holder: LeaseHolder,
  json: string,
  replaces?: LeaseHolder | undefined,
  append?: boolean | undefined
): Effect.Effect<Option.Option<LeaseHolder>, SqlError | StorageError> =>
  Effect.gen(function*() {
    yield* checkName(holder.runId)
    const saved = append === true
      ? yield* sql`UPDATE acme_runs SET checkpoint = checkpoint || ${`\n${json}`}, saved_at = now(),
          holder_host = ${holder.host}, holder_pid = ${holder.pid}
        WHERE run_id = ${holder.runId} AND (holder_host IS NULL OR (holder_host = ${holder.host} AND holder_pid = ${holder.pid}))
        RETURNING run_id`
      : yield* sql`INSERT INTO acme_runs (run_id, checkpoint, holder_host, holder_pid)
      VALUES (${holder.runId}, ${json}, ${holder.host}, ${holder.pid})
      ON CONFLICT (run_id) DO UPDATE SET checkpoint = EXCLUDED.checkpoint, saved_at = now(),
        holder_host = EXCLUDED.holder_host, holder_pid = EXCLUDED.holder_pid
      WHERE acme_runs.holder_host IS NULL
        OR (acme_runs.holder_host = EXCLUDED.holder_host AND acme_runs.holder_pid = EXCLUDED.holder_pid)
        OR (acme_runs.holder_host = ${replaces?.host ?? null} AND acme_runs.holder_pid = ${replaces?.pid ?? null})
      RETURNING run_id`
    if (saved.length > 0) return Option.none()
    const owners = yield* sql<{ readonly holder_host: string; readonly holder_pid: number }>`
      SELECT holder_host, holder_pid FROM acme_runs WHERE run_id = ${holder.runId}`
    if (append === true && owners.length === 0) return yield* noCheckpoint(holder.runId)
    return Option.map(
      Option.fromNullable(owners[0]),
      (owner): LeaseHolder => ({ runId: holder.runId, host: owner.holder_host, pid: owner.holder_pid })
    )
  })
