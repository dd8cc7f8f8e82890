/**
 * The tables, created and changed only by these migrations (`@effect/sql`'s Migrator, its own
 * bookkeeping in `acme_migrations`). New tables come as new numbered entries; an entry, once
 * released, never changes.
 *
 * Several processes may start at the same moment on an empty database: a transaction-scoped
 * advisory lock lets one of them migrate while the others wait, then find nothing to do.
 */
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"

/** the migrations' own table */
export const migrationsTable = "acme_migrations"

/** an arbitrary constant: the advisory lock the migrating process holds */
const migrationLock = 7_236_411_050

const storage = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  Effect.all([
    sql`CREATE TABLE acme_certificates (
      name text PRIMARY KEY,
      cert_pem text NOT NULL,
      private_key bytea NOT NULL,
      version integer NOT NULL,
      saved_at timestamptz NOT NULL DEFAULT now()
    )`,
    sql`CREATE TABLE acme_chains (
      name text PRIMARY KEY REFERENCES acme_certificates (name) ON DELETE CASCADE,
      chain_pem text NOT NULL,
      fullchain_pem text NOT NULL
    )`,
    sql`CREATE TABLE acme_certificate_metadata (
      name text PRIMARY KEY REFERENCES acme_certificates (name) ON DELETE CASCADE,
      metadata jsonb NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,
    sql`CREATE TABLE acme_accounts (
      directory_url text NOT NULL,
      name text NOT NULL,
      private_key bytea NOT NULL,
      info jsonb,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (directory_url, name)
    )`,
    sql`CREATE TABLE acme_pending_keys (
      reference text PRIMARY KEY,
      certificate text NOT NULL,
      run_id text NOT NULL,
      private_key bytea NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    sql`CREATE TABLE acme_runs (
      run_id text PRIMARY KEY,
      checkpoint text NOT NULL,
      holder_host text,
      holder_pid integer,
      saved_at timestamptz NOT NULL DEFAULT now()
    )`,
    sql`CREATE TABLE acme_leases (
      certificate text PRIMARY KEY,
      token bigint NOT NULL,
      holder_run_id text NOT NULL,
      holder_host text NOT NULL,
      holder_pid integer NOT NULL,
      expires_at timestamptz NOT NULL,
      released boolean NOT NULL
    )`,
    sql`CREATE TABLE acme_encryption_check (
      id smallint PRIMARY KEY CHECK (id = 1),
      sealed bytea NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`
  ], { discard: true }))

/** the key a rollover stages before the CA has switched the account to it (sealed like the others) */
const rolloverKey = Effect.flatMap(SqlClient.SqlClient, (sql) => sql`ALTER TABLE acme_accounts ADD COLUMN rollover_key bytea`)

/**
 * The records of `acme serve` (`ServiceRecords.Store`): its tasks, its API keys (the SHA-256 hash of
 * each, never the key) and its audit log. Times are kept as the ISO text the records carry, compared
 * byte by byte (`COLLATE "C"`), as the file storage compares them. The audit log is append-only:
 * the storage only ever inserts into it, and a trigger refuses every UPDATE, DELETE and TRUNCATE.
 */
const serviceRecords = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  Effect.all([
    sql`CREATE TABLE acme_tasks (
      id text PRIMARY KEY,
      status text NOT NULL,
      created_at text NOT NULL,
      task jsonb NOT NULL,
      saved_at timestamptz NOT NULL DEFAULT now()
    )`,
    sql`CREATE TABLE acme_api_keys (
      id text PRIMARY KEY,
      name text NOT NULL,
      scope text NOT NULL CHECK (scope IN ('read', 'write')),
      sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
      created_at text NOT NULL,
      revoked_at text
    )`,
    sql`CREATE TABLE acme_audit (
      seq bigserial PRIMARY KEY,
      time text NOT NULL,
      actor text NOT NULL,
      action text NOT NULL,
      certificate text,
      result text NOT NULL,
      task text,
      detail text,
      recorded_at timestamptz NOT NULL DEFAULT now()
    )`,
    sql`CREATE INDEX acme_audit_time ON acme_audit (time COLLATE "C")`,
    sql.unsafe(`CREATE FUNCTION acme_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'acme_audit is append-only: % refused', TG_OP;
      END
    $$`),
    sql`CREATE TRIGGER acme_audit_append_only BEFORE UPDATE OR DELETE ON acme_audit
      FOR EACH ROW EXECUTE FUNCTION acme_audit_append_only()`,
    sql`CREATE TRIGGER acme_audit_no_truncate BEFORE TRUNCATE ON acme_audit
      FOR EACH STATEMENT EXECUTE FUNCTION acme_audit_append_only()`
  ], { discard: true }))

/** @internal */
export const migrations = Migrator.fromRecord({
  "1_storage": storage,
  "2_rollover_key": rolloverKey,
  "3_service_records": serviceRecords
})

/** Runs the migrations not run yet; returns those it ran. */
export const run: Effect.Effect<
  ReadonlyArray<readonly [id: number, name: string]>,
  Migrator.MigrationError | SqlError,
  SqlClient.SqlClient
> = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql.withTransaction(
    Effect.gen(function*() {
      yield* sql`SELECT pg_advisory_xact_lock(${migrationLock})`
      // created here, under the lock: two processes creating it at once would collide
      yield* sql`CREATE TABLE IF NOT EXISTS ${sql(migrationsTable)} (
        migration_id integer PRIMARY KEY,
        created_at timestamptz NOT NULL DEFAULT now(),
        name text NOT NULL
      )`
      return yield* Migrator.make({})({ loader: migrations, table: migrationsTable })
    })
  ))
