import { CertificateName, Lease, Plugin, type ServiceRecords, type Storage } from "@acme/sdk"
import { EncryptionKey, PostgresStorage } from "@acme/storage-postgres"
import { Postgres, Requirement } from "@acme/testing"
import { Reactivity } from "@effect/experimental"
import { FetchHttpClient, FileSystem, Path } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { PgClient } from "@effect/sql-pg"
import { describe, expect, it, layer } from "@effect/vitest"
import { ConfigProvider, Effect, Either, Layer, Option, Redacted, TestClock } from "effect"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"

const directoryUrl = "https://127.0.0.1:14000/dir"

const newKey = () => ({ bytes: Redacted.make(Uint8Array.from(Crypto.randomBytes(32))), source: "the test's key" })

const metadata = (serialNumber: string, name = "site"): Storage.CertificateMetadata => ({
  version: 1,
  name: CertificateName.make(name),
  identifiers: [{ type: "dns", value: "site.example.org" }],
  keyType: "ec-p256",
  serialNumber,
  notBefore: "2026-12-01T00:00:00.000Z",
  notAfter: "2027-03-01T00:00:00.000Z",
  issuer: "Pebble Intermediate CA",
  directoryUrl,
  issuedAt: "2026-12-01T00:00:01.000Z"
})

const files = (version: number, keyPem = `key-v${version}\n`): Storage.CertificateFiles => ({
  certPem: `cert-v${version}\n`,
  chainPem: `chain-v${version}\n`,
  fullchainPem: `fullchain-v${version}\n`,
  keyPem,
  metadata: metadata(`0${version}`)
})

/** a real private key and every form its secret could be found in */
const privateKey = (type: "ec" | "rsa") => {
  const { privateKey } = type === "ec"
    ? Crypto.generateKeyPairSync("ec", { namedCurve: "P-256" })
    : Crypto.generateKeyPairSync("rsa", { modulusLength: 2048 })
  const pem = privateKey.export({ format: "pem", type: "pkcs8" }).toString()
  const der = privateKey.export({ format: "der", type: "pkcs8" })
  const d = Buffer.from(privateKey.export({ format: "jwk" }).d ?? "", "base64url")
  return { pem, der, d }
}

/** a client of its own on the database, to read the rows as they are */
const rawClient = (url: string) =>
  PgClient.make({ url: Redacted.make(url) }).pipe(Effect.provide(Reactivity.layer), Effect.orDie)

const host = { runId: "2026-12-01T12-00-00.000Z-run1", host: "host-a", pid: 1001 }

const requirement = Postgres.requirement()

if (requirement._tag === "Fail") {
  it("PostgreSQL is there", () => {
    expect.fail(Requirement.message(requirement))
  })
}

describe.skipIf(requirement._tag !== "Run")(`PostgresStorage on a server${Requirement.note(requirement)}`, () => {
  layer(Layer.mergeAll(Postgres.layer(), NodeContext.layer), { timeout: 120_000 })("PostgresStorage", (it) => {
    it.scoped("no private key is in plaintext in any column of any table", () =>
      Effect.gen(function*() {
        const postgres = yield* Postgres.Postgres
        const url = yield* postgres.createDatabase
        const storage = yield* PostgresStorage.make({ url, encryptionKey: newKey() })
        const certificateKey = privateKey("ec")
        const leasedKey = privateKey("ec")
        const accountKey = privateKey("rsa")
        const pendingKey = privateKey("ec")
        yield* storage.saveCertificate({ name: CertificateName.make("site"), ...files(1, certificateKey.pem) })
        const lease = yield* storage.acquireLease({ certificate: "other", holder: host, ttl: "1 minute" })
        yield* storage.fenced(lease).saveCertificate({ ...files(1, leasedKey.pem), metadata: metadata("01", "other") })
        const pending = yield* storage.fenced(lease).savePendingKey(pendingKey.pem)
        yield* storage.saveAccountKey(directoryUrl, "default", accountKey.pem)
        yield* storage.saveRunCheckpoint({ holder: host, json: JSON.stringify({ pending }), lease })
        // they are all there, and read back whole
        expect(yield* storage.loadCertificateKey(CertificateName.make("site"))).toEqual(Option.some(certificateKey.pem))
        expect(yield* storage.loadCertificateKey(CertificateName.make("other"))).toEqual(Option.some(leasedKey.pem))
        expect(yield* storage.loadPendingKey(pending)).toEqual(Option.some(pendingKey.pem))
        expect(Option.map(yield* storage.loadAccount(directoryUrl, "default"), (a) => a.keyPem)).toEqual(
          Option.some(accountKey.pem)
        )

        const needles = [certificateKey, leasedKey, accountKey, pendingKey].flatMap((key) => {
          const body = key.pem.split("\n").filter((line) => !line.startsWith("-----")).join("")
          return [
            Buffer.from(key.der),
            key.d,
            Buffer.from(body),
            Buffer.from(body.slice(0, 48)),
            Buffer.from(key.der.toString("hex")),
            Buffer.from(key.d.toString("hex")),
            Buffer.from(key.d.toString("base64")),
            Buffer.from(key.d.toString("base64url"))
          ]
        })
        needles.push(Buffer.from("PRIVATE KEY"))

        const sql = yield* rawClient(url)
        /** every value of every column of every table of the database, as bytes, with where it is */
        const scan = Effect.gen(function*() {
          const tables = yield* sql<{ readonly table_name: string }>`
            SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`
          const found: Array<string> = []
          const columns = new Map<string, number>()
          for (const { table_name } of tables) {
            const rows = yield* sql<Record<string, unknown>>`SELECT * FROM ${sql(table_name)}`
            for (const row of rows) {
              for (const [column, value] of Object.entries(row)) {
                columns.set(`${table_name}.${column}`, (columns.get(`${table_name}.${column}`) ?? 0) + 1)
                const bytes = Buffer.isBuffer(value)
                  ? value
                  : Buffer.from(typeof value === "string" ? value : JSON.stringify(value) ?? "")
                const texts = [bytes, Buffer.from(bytes.toString("hex")), Buffer.from(bytes.toString("base64"))]
                for (const needle of needles) {
                  if (texts.some((text) => text.includes(needle))) found.push(`${table_name}.${column}`)
                }
              }
            }
          }
          return { found, columns }
        }).pipe(Effect.orDie)

        const { columns, found } = yield* scan
        expect(found).toEqual([])
        // the scan saw the rows that hold the keys
        for (
          const column of [
            "acme_certificates.private_key",
            "acme_accounts.private_key",
            "acme_pending_keys.private_key",
            "acme_runs.checkpoint",
            "acme_leases.token"
          ]
        ) {
          expect(columns.get(column) ?? 0).toBeGreaterThan(0)
        }

        // and it would have seen a key written in plaintext
        yield* sql`CREATE TABLE control (note text)`.pipe(Effect.orDie)
        yield* sql`INSERT INTO control VALUES (${accountKey.pem})`.pipe(Effect.orDie)
        expect((yield* scan).found).toContain("control.note")
      }))

    it.scoped("a sealed key copied into another row does not open there", () =>
      Effect.gen(function*() {
        const postgres = yield* Postgres.Postgres
        const url = yield* postgres.createDatabase
        const storage = yield* PostgresStorage.make({ url, encryptionKey: newKey() })
        yield* storage.saveCertificate({ name: CertificateName.make("site"), ...files(1) })
        yield* storage.saveCertificate({ name: CertificateName.make("other"), ...files(2) })
        const sql = yield* rawClient(url)
        yield* sql`UPDATE acme_certificates SET private_key = (SELECT private_key FROM acme_certificates WHERE name = 'site')
          WHERE name = 'other'`.pipe(Effect.orDie)
        const error = yield* Effect.flip(storage.loadCertificateKey(CertificateName.make("other")))
        expect(error.reason).toBe("Corrupt")
        expect(error.message).toMatch(/cannot decrypt the private key: it does not open with the configured encryption key/)
        expect(error.message).not.toContain("key-v")
      }))

    it.scoped("a missing, unusable or different key stops the storage before anything is written", () =>
      Effect.gen(function*() {
        const postgres = yield* Postgres.Postgres
        const url = yield* postgres.createDatabase
        const database = url.slice(url.lastIndexOf("/") + 1)
        const tables = postgres.psql("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'", database)

        const missing = yield* Effect.flip(
          PostgresStorage.make({ url, encryptionKey: { env: "ACME_TEST_STORAGE_KEY" } }).pipe(
            Effect.withConfigProvider(ConfigProvider.fromMap(new Map()))
          )
        )
        expect(missing.message).toBe(
          "the storage encryption key is missing: the environment variable ACME_TEST_STORAGE_KEY is not set; " +
            "set it to 32 random bytes in base64 (make them with: openssl rand -base64 32)"
        )
        const short = yield* Effect.flip(
          PostgresStorage.make({ url, encryptionKey: { env: "ACME_TEST_STORAGE_KEY" } }).pipe(
            Effect.withConfigProvider(
              ConfigProvider.fromMap(new Map([["ACME_TEST_STORAGE_KEY", Crypto.randomBytes(16).toString("base64")]]))
            )
          )
        )
        expect(short).toMatchObject({ _tag: "EncryptionKeyError", reason: "Invalid" })
        expect(short.message).toMatch(/^the storage encryption key in the environment variable ACME_TEST_STORAGE_KEY is not usable: it decodes to 16 bytes instead of 32;/)
        expect(yield* tables).toBe("0")

        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        const keyFile = path.join(yield* fs.makeTempDirectoryScoped(), "storage.key")
        yield* fs.writeFileString(keyFile, `${Crypto.randomBytes(32).toString("hex")}\n`)
        const storage = yield* PostgresStorage.make({ url, encryptionKey: { file: keyFile } })
        yield* storage.saveAccountKey(directoryUrl, "default", "account-key\n")

        const other = yield* Effect.flip(PostgresStorage.make({ url, encryptionKey: newKey() }))
        expect(other).toMatchObject({ _tag: "EncryptionKeyError", reason: "Mismatch" })
        expect(other.message).toBe(
          "the storage encryption key in the test's key is not the key this database was written with (the database's " +
            "key check does not open with it); give that key: another one cannot read the stored private keys"
        )
        expect(other.message.split("\n")).toHaveLength(1)
        // the key in raw bytes, in a file, is the same key
        const raw = path.join(path.dirname(keyFile), "raw.key")
        yield* fs.writeFile(raw, Buffer.from(Fs.readFileSync(keyFile, "utf8").trim(), "hex"))
        const again = yield* PostgresStorage.make({ url, encryptionKey: { file: raw } })
        expect(Option.map(yield* again.loadAccount(directoryUrl, "default"), (a) => a.keyPem)).toEqual(
          Option.some("account-key\n")
        )
        const absent = yield* Effect.flip(PostgresStorage.make({ url, encryptionKey: { file: `${raw}.absent` } }))
        expect(absent.message).toBe(
          `the storage encryption key is missing: the file ${raw}.absent does not exist; ` +
            "set it to 32 random bytes in base64 (make them with: openssl rand -base64 32)"
        )
      }))

    it("decodes a key in base64, base64url or hex, and nothing else", () => {
      const bytes = Crypto.randomBytes(32)
      for (const text of [bytes.toString("base64"), bytes.toString("base64url"), bytes.toString("hex"), ` ${bytes.toString("hex")}\n`]) {
        const decoded = EncryptionKey.decode(text, "test")
        expect(Either.map(decoded, (key) => Buffer.from(Redacted.value(key.bytes)).equals(bytes))).toEqual(Either.right(true))
      }
      expect(Either.getLeft(EncryptionKey.decode("not a key!", "test")).pipe(Option.map((e) => e.reason))).toEqual(
        Option.some("Invalid")
      )
      expect(Either.getLeft(EncryptionKey.decode("", "test")).pipe(Option.map((e) => e.reason))).toEqual(
        Option.some("Missing")
      )
      expect(String(Either.getOrThrow(EncryptionKey.decode(bytes.toString("hex"), "test")).bytes)).toBe("<redacted>")
    })

    it.scoped("export: every certificate saved also lands in certbot-style files, the key 0600", () =>
      Effect.gen(function*() {
        const postgres = yield* Postgres.Postgres
        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        const url = yield* postgres.createDatabase
        const exportDir = path.join(yield* fs.makeTempDirectoryScoped(), "acme")
        const storage = yield* PostgresStorage.make({ url, encryptionKey: newKey(), export: exportDir })
        const live = path.join(exportDir, "live", "site")
        expect(storage.certificatePaths(CertificateName.make("site")).privkey).toBe(path.join(live, "privkey.pem"))

        const lease = yield* storage.acquireLease({ certificate: "site", holder: host, ttl: "1 minute" })
        const paths = yield* storage.fenced(lease).saveCertificate(files(1))
        expect(paths.fullchain).toBe(path.join(live, "fullchain.pem"))
        expect(Fs.readFileSync(paths.cert, "utf8")).toBe("cert-v1\n")
        expect(Fs.readFileSync(paths.chain, "utf8")).toBe("chain-v1\n")
        expect(Fs.readFileSync(paths.fullchain, "utf8")).toBe("fullchain-v1\n")
        expect(Fs.readFileSync(paths.privkey, "utf8")).toBe("key-v1\n")
        expect(Fs.statSync(paths.privkey).mode & 0o777).toBe(0o600)
        yield* storage.fenced(lease).updateMetadata({ ...metadata("01"), certId: "exported" })
        expect(JSON.parse(Fs.readFileSync(paths.metadata, "utf8"))).toMatchObject({ certId: "exported" })

        // a holder that lost its lease writes neither the database nor the files
        yield* TestClock.adjust("2 minutes")
        const next = yield* storage.acquireLease({ certificate: "site", holder: { ...host, pid: 2002 }, ttl: "1 minute" })
        yield* storage.fenced(next).saveCertificate(files(2))
        const refused = yield* Effect.flip(storage.fenced(lease).saveCertificate(files(3)))
        expect(Lease.isLeaseError(refused) && refused.reason).toBe("Lost")
        expect(Fs.readFileSync(paths.cert, "utf8")).toBe("cert-v2\n")
        expect(Option.map(yield* storage.loadCertificate(CertificateName.make("site")), (c) => c.fullchainPem)).toEqual(
          Option.some("fullchain-v2\n")
        )
      }))

    it.scoped("two storages on one database share the server's records; the audit log refuses UPDATE, DELETE and TRUNCATE", () =>
      Effect.gen(function*() {
        const postgres = yield* Postgres.Postgres
        const url = yield* postgres.createDatabase
        const encryptionKey = newKey()
        const [a, b] = yield* Effect.all([PostgresStorage.make({ url, encryptionKey }), PostgresStorage.make({ url, encryptionKey })])
        const recordsA = a?.records ?? expect.unreachable("records")
        const recordsB = b?.records ?? expect.unreachable("records")
        const task: ServiceRecords.Task = {
          id: "t1",
          action: "renew",
          status: "queued",
          requestedBy: "k_1",
          createdAt: "2026-12-01T12:00:00.000Z"
        }
        yield* recordsA.saveTask(task)
        yield* recordsB.saveTask({ ...task, status: "running" })
        expect(Option.map(yield* recordsA.loadTask("t1"), (t) => t.status)).toEqual(Option.some("running"))
        const sha256 = Crypto.createHash("sha256").update("acme_the-key-itself").digest("hex")
        yield* recordsA.saveApiKey({ id: "k_1", name: "deploy", scope: "write", sha256, createdAt: task.createdAt })
        expect((yield* recordsB.listApiKeys).map((key) => key.sha256)).toEqual([sha256])
        yield* recordsA.appendAudit({ time: task.createdAt, actor: "k_1", action: "renew", result: "queued", task: "t1" })
        yield* recordsB.appendAudit({ time: task.createdAt, actor: "scheduler", action: "renew", result: "renewed" })
        expect((yield* recordsA.readAudit()).map((entry) => entry.actor)).toEqual(["k_1", "scheduler"])
        // the audit table is append-only, also for a client that is not this storage
        const database = url.slice(url.lastIndexOf("/") + 1)
        for (const statement of ["UPDATE acme_audit SET result = 'x'", "DELETE FROM acme_audit", "TRUNCATE acme_audit"]) {
          const refused = yield* Effect.flip(postgres.psql(statement, database))
          expect(refused.message).toContain("acme_audit is append-only")
        }
        expect(yield* postgres.psql("SELECT string_agg(result, ' ' ORDER BY seq) FROM acme_audit", database)).toBe(
          "queued renewed"
        )
      }))

    it.scoped("processes starting together on an empty database migrate it once", () =>
      Effect.gen(function*() {
        const postgres = yield* Postgres.Postgres
        const url = yield* postgres.createDatabase
        const encryptionKey = newKey()
        const storages = yield* Effect.all(
          Array.from({ length: 4 }, () => PostgresStorage.make({ url, encryptionKey, maxConnections: 2 })),
          { concurrency: "unbounded" }
        )
        expect(storages).toHaveLength(4)
        const database = url.slice(url.lastIndexOf("/") + 1)
        expect(yield* postgres.psql("SELECT migration_id || ' ' || name FROM acme_migrations ORDER BY migration_id", database)).toBe(
          "1 storage\n2 rollover_key\n3 service_records"
        )
        yield* PostgresStorage.make({ url, encryptionKey })
        expect(yield* postgres.psql("SELECT count(*) FROM acme_migrations", database)).toBe("3")
        expect(
          yield* postgres.psql(
            "SELECT string_agg(table_name, ' ' ORDER BY table_name) FROM information_schema.tables WHERE table_schema = 'public'",
            database
          )
        ).toBe(
          "acme_accounts acme_api_keys acme_audit acme_certificate_metadata acme_certificates acme_chains " +
            "acme_encryption_check acme_leases acme_migrations acme_pending_keys acme_runs acme_tasks"
        )
      }))

    it.scoped("an unreachable database is one line, without the password", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(
          PostgresStorage.make({ url: "postgres://acme:s3cret@127.0.0.1:1/acme", encryptionKey: newKey() })
        )
        expect(error._tag).toBe("StorageError")
        expect(error.message).toMatch(/^storage failed at postgres:\/\/acme@127\.0\.0\.1:1\/acme: cannot connect: /)
        expect(error.message).not.toContain("s3cret")
        expect(error.message.split("\n")).toHaveLength(1)
      }))

    it.scoped("the plugin builds the storage from the configuration's options", () =>
      Effect.gen(function*() {
        const postgres = yield* Postgres.Postgres
        const url = yield* postgres.createDatabase
        const configurable = Plugin.configurable(PostgresStorage.plugin)
        expect(Either.isLeft(configurable.configure({ url: { env: "DB" } }))).toBe(true)
        const build = Either.getOrThrow(
          configurable.configure({ url: { env: "ACME_DATABASE_URL" }, encryptionKey: { env: "ACME_STORAGE_KEY" } })
        )
        const env = new Map([["ACME_DATABASE_URL", url], ["ACME_STORAGE_KEY", Crypto.randomBytes(32).toString("base64")]])
        const context = {
          configDirectory: "/etc/acme",
          // a storage plugin uses neither
          deterministicPlanner: undefined as never,
          deterministicReporter: undefined as never,
          env: (name: string) =>
            Option.match(Option.fromNullable(env.get(name)), {
              onNone: () => Effect.fail(new Plugin.PluginError({ plugin: "postgres", description: `${name} is not set` })),
              onSome: Effect.succeed
            })
        }
        const storage = yield* build(context).pipe(Effect.provide(FetchHttpClient.layer))
        expect(storage.location).toBe(url)
        env.set("ACME_STORAGE_KEY", "short")
        const error = yield* Effect.flip(build(context).pipe(Effect.provide(FetchHttpClient.layer)))
        expect(error.message).toMatch(/^postgres: the storage encryption key in the environment variable ACME_STORAGE_KEY is not usable/)
      }))
  })
})
