import { CertificateName, CrashPoint, Storage } from "@acme/sdk"
import { Requirement } from "@acme/testing"
import { FileSystem, Path } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, expect, layer } from "@effect/vitest"
import { Effect, Exit, Fiber, Option, Ref, TestClock } from "effect"
import { execFileSync } from "node:child_process"
import * as nodeFs from "node:fs"
import * as os from "node:os"
import * as nodePath from "node:path"

const directoryUrl = "https://127.0.0.1:14000/dir"

// the storage checks names again at run time, for callers that bypass the type (JavaScript, casts): the
// unsafe-name test passes invalid names through these helpers on purpose, so they take plain strings
const unchecked = (name: string) => name as CertificateName.CertificateName

const metadata = (serialNumber: string, name = "example"): Storage.CertificateMetadata => ({
  version: 1,
  name: unchecked(name),
  identifiers: [{ type: "dns", value: "example.org" }],
  keyType: "ec-p256",
  serialNumber,
  notBefore: "2026-01-01T00:00:00.000Z",
  notAfter: "2026-04-01T00:00:00.000Z",
  issuer: "Pebble Intermediate CA",
  directoryUrl,
  issuedAt: "2026-01-01T00:00:01.000Z"
})

/** a certificate whose every file says which version it is */
const certificate = (version: number, name = "example") => ({
  name: unchecked(name),
  certPem: `cert-v${version}\n`,
  chainPem: `chain-v${version}\n`,
  fullchainPem: `fullchain-v${version}\n`,
  keyPem: `key-v${version}\n`,
  metadata: metadata(`0${version}`, name)
})

const openStorage = (root: string) => Effect.provide(Storage.Storage, Storage.layerFileSystem(root))

/** a fresh empty folder, removed at the end of the test, and the storage on it */
const setup = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const parent = yield* fs.makeTempDirectoryScoped({ prefix: "acme-storage-" })
  const root = path.join(parent, "storage")
  yield* fs.makeDirectory(root)
  const storage = yield* openStorage(root)
  return { fs, path, parent, root, storage }
})

const mode = (file: string) => Effect.map(Effect.flatMap(FileSystem.FileSystem, (fs) => fs.stat(file)), (info) => info.mode & 0o777)

const crashAt = (point: string) =>
  Effect.provideService(CrashPoint.CrashPoint, {
    reach: (reached) => reached === point ? Effect.die(`crash at ${reached}`) : Effect.void
  })

/** `chattr +i` stops even root from writing into a folder (EPERM); probe whether it works here */
const immutableFolders = (() => {
  if (process.platform !== "linux") return false
  const probe = nodeFs.mkdtempSync(nodePath.join(os.tmpdir(), "acme-chattr-"))
  try {
    execFileSync("chattr", ["+i", probe], { stdio: "ignore" })
    execFileSync("chattr", ["-i", probe], { stdio: "ignore" })
    return true
  } catch {
    return false
  } finally {
    nodeFs.rmSync(probe, { recursive: true, force: true })
  }
})()
const isRoot = process.getuid?.() === 0
// root needs a file system that takes `chattr +i` to make a folder read-only; under CI=true a missing
// one fails the run instead of skipping the test
const readOnlyFolders = Requirement.decide({
  what: "a way to make a folder read-only (as root: a file system that takes chattr +i)",
  missing: isRoot && !immutableFolders ? `chattr +i does not work in ${os.tmpdir()}` : undefined
})
const sysFolder = Requirement.decide({
  what: "/sys (Linux)",
  missing: nodeFs.existsSync("/sys/kernel") ? undefined : "/sys/kernel does not exist"
})

layer(NodeContext.layer)("FileStorage", (it) => {
  it.scoped("certificates: save, load, key, list, update metadata", () =>
    Effect.gen(function*() {
      const { path, root, storage } = yield* setup
      expect(yield* storage.loadCertificate(CertificateName.make("example"))).toEqual(Option.none())
      expect(yield* storage.loadCertificateKey(CertificateName.make("example"))).toEqual(Option.none())
      expect(yield* storage.listCertificates).toEqual([])

      const paths = yield* storage.saveCertificate(certificate(1))
      expect(paths).toEqual({
        directory: path.join(root, "live", "example"),
        cert: path.join(root, "live", "example", "cert.pem"),
        chain: path.join(root, "live", "example", "chain.pem"),
        fullchain: path.join(root, "live", "example", "fullchain.pem"),
        privkey: path.join(root, "live", "example", "privkey.pem"),
        metadata: path.join(root, "live", "example", "metadata.json")
      })
      expect(storage.certificatePaths(CertificateName.make("example"))).toEqual(paths)
      expect(storage.location).toBe(root)

      const loaded = yield* storage.loadCertificate(CertificateName.make("example"))
      assert(Option.isSome(loaded))
      expect(loaded.value).toEqual({ name: "example", fullchainPem: "fullchain-v1\n", metadata: metadata("01"), paths })
      expect(yield* storage.loadCertificateKey(CertificateName.make("example"))).toEqual(Option.some("key-v1\n"))

      yield* storage.saveCertificate(certificate(1, "other.example"))
      expect(yield* storage.listCertificates).toEqual(["example", "other.example"])

      const revoked = { ...metadata("01"), revokedAt: "2026-02-01T00:00:00.000Z", revocationReason: "keyCompromise" }
      yield* storage.updateMetadata(CertificateName.make("example"), revoked)
      const updated = yield* storage.loadCertificate(CertificateName.make("example"))
      assert(Option.isSome(updated))
      expect(updated.value.metadata).toEqual(revoked)
      expect(updated.value.fullchainPem).toBe("fullchain-v1\n")

      // updating what is not stored does nothing (as in the memory storage)
      yield* storage.updateMetadata(CertificateName.make("absent"), metadata("02", "absent"))
      expect(yield* storage.loadCertificate(CertificateName.make("absent"))).toEqual(Option.none())
      expect(yield* storage.listCertificates).toEqual(["example", "other.example"])
    }))

  it.scoped("a certificate issued straight by a root: its empty chain.pem is written (found by the fuzz suite)", () =>
    Effect.gen(function*() {
      const { fs, storage } = yield* setup
      const paths = yield* storage.saveCertificate({ ...certificate(1), chainPem: "" })
      expect(yield* fs.readFileString(paths.chain)).toBe("")
      expect(yield* fs.readFileString(paths.cert)).toBe("cert-v1\n")
    }))

  it.scoped("layout: live/<name> is a relative symlink to archive/<name>/<n>; keys 0600, the rest readable", () =>
    Effect.gen(function*() {
      const { fs, path, root, storage } = yield* setup
      const paths = yield* storage.saveCertificate(certificate(1))
      expect(yield* fs.readLink(path.join(root, "live", "example"))).toBe("../archive/example/1")
      yield* storage.saveCertificate(certificate(2))
      expect(yield* fs.readLink(path.join(root, "live", "example"))).toBe("../archive/example/2")
      expect(yield* fs.readFileString(paths.cert)).toBe("cert-v2\n")
      expect(yield* fs.readFileString(paths.chain)).toBe("chain-v2\n")
      expect(yield* fs.readFileString(path.join(root, "archive", "example", "1", "cert.pem"))).toBe("cert-v1\n")

      expect(yield* mode(paths.privkey)).toBe(0o600)
      for (const file of [paths.cert, paths.chain, paths.fullchain, paths.metadata]) {
        expect(yield* mode(file)).toBe(0o644)
      }
      const metadataJson: unknown = JSON.parse(yield* fs.readFileString(paths.metadata))
      expect(metadataJson).toEqual(metadata("02"))

      const reference = yield* storage.savePendingKey(CertificateName.make("example"), "2026-11-23T13-45-56.123Z-ab12", "pending-key\n")
      expect(reference).toBe("pending/example.2026-11-23T13-45-56.123Z-ab12.key")
      expect(yield* mode(path.join(root, reference))).toBe(0o600)

      yield* storage.saveAccountKey(directoryUrl, "default", "account-key\n")
      const accountKey = path.join(root, "accounts", "127.0.0.1_14000", "default", "account.key")
      expect(yield* fs.readFileString(accountKey)).toBe("account-key\n")
      expect(yield* mode(accountKey)).toBe(0o600)

      // no temp file is left anywhere
      const everything = yield* fs.readDirectory(root, { recursive: true })
      expect(everything.filter((entry) => entry.includes(".tmp-"))).toEqual([])
    }))

  it.scoped("pending keys: save, load, delete; references are checked", () =>
    Effect.gen(function*() {
      const { storage } = yield* setup
      const reference = yield* storage.savePendingKey(CertificateName.make("example"), "2026-11-23T13-45-56.123Z-ab12", "pending-key\n")
      expect(yield* storage.loadPendingKey(reference)).toEqual(Option.some("pending-key\n"))
      yield* storage.deletePendingKey(reference)
      expect(yield* storage.loadPendingKey(reference)).toEqual(Option.none())
      yield* storage.deletePendingKey(reference)
      expect(yield* storage.loadPendingKey("pending/never.saved.key")).toEqual(Option.none())
      for (const bad of ["pending/../storage.key", "../x.key", "pending/a/b.key", "pending/.hidden.key", "/etc/passwd"]) {
        const error = yield* Effect.flip(storage.loadPendingKey(bad))
        expect(error.reason).toBe("InvalidName")
        expect((yield* Effect.flip(storage.deletePendingKey(bad))).reason).toBe("InvalidName")
      }
    }))

  it.scoped("accounts: key, info, key rollover keeps the info", () =>
    Effect.gen(function*() {
      const { storage } = yield* setup
      const info: Storage.AccountInfo = {
        url: "https://127.0.0.1:14000/my-account/1",
        directoryUrl,
        contact: ["mailto:ops@example.org"],
        createdAt: "2026-01-01T00:00:00.000Z",
        keyThumbprint: "abc"
      }
      expect(yield* storage.loadAccount(directoryUrl, "default")).toEqual(Option.none())
      // info without a key is not stored (as in the memory storage)
      yield* storage.saveAccountInfo(directoryUrl, "default", info)
      expect(yield* storage.loadAccount(directoryUrl, "default")).toEqual(Option.none())

      yield* storage.saveAccountKey(directoryUrl, "default", "key-1\n")
      expect(yield* storage.loadAccount(directoryUrl, "default")).toEqual(
        Option.some({ keyPem: "key-1\n", info: Option.none() })
      )
      yield* storage.saveAccountInfo(directoryUrl, "default", info)
      expect(yield* storage.loadAccount(directoryUrl, "default")).toEqual(
        Option.some({ keyPem: "key-1\n", info: Option.some(info) })
      )
      yield* storage.saveAccountKey(directoryUrl, "default", "key-2\n")
      expect(yield* storage.loadAccount(directoryUrl, "default")).toEqual(
        Option.some({ keyPem: "key-2\n", info: Option.some(info) })
      )
      // another CA, another name: separate accounts
      expect(yield* storage.loadAccount("https://acme.example.org/directory", "default")).toEqual(Option.none())
      expect(yield* storage.loadAccount(directoryUrl, "second")).toEqual(Option.none())
    }))

  it.scoped("checkpoints: oldest first, replaced by run id, pruned to the newest", () =>
    Effect.gen(function*() {
      const { storage } = yield* setup
      expect(yield* storage.loadCheckpoints).toEqual([])
      const ids = ["2026-11-23T13-45-56.123Z-ab12", "2026-11-23T13-45-57.000Z-0000", "2026-11-24T00-00-00.000Z-ffff"]
      yield* storage.saveCheckpoint(ids[2] ?? "", "{\"n\":3}")
      yield* storage.saveCheckpoint(ids[0] ?? "", "{\"n\":1}")
      yield* storage.saveCheckpoint(ids[1] ?? "", "{\"n\":0}")
      yield* storage.saveCheckpoint(ids[1] ?? "", "{\"n\":2}")
      expect(yield* storage.loadCheckpoints).toEqual([
        { runId: ids[0], json: "{\"n\":1}" },
        { runId: ids[1], json: "{\"n\":2}" },
        { runId: ids[2], json: "{\"n\":3}" }
      ])
      yield* storage.pruneCheckpoints(2)
      expect((yield* storage.loadCheckpoints).map((c) => c.runId)).toEqual([ids[1], ids[2]])
      yield* storage.pruneCheckpoints(5)
      expect((yield* storage.loadCheckpoints).map((c) => c.runId)).toEqual([ids[1], ids[2]])
      yield* storage.pruneCheckpoints(0)
      expect(yield* storage.loadCheckpoints).toEqual([])
    }))

  it.scoped("checkpoint changes: a file each, written atomically; ones a crash left behind a newer whole checkpoint are not read", () =>
    Effect.gen(function*() {
      const { fs, path, root, storage } = yield* setup
      const runId = "2026-11-23T13-45-57.000Z-0000"
      const runs = path.join(root, "runs")
      yield* storage.saveCheckpoint(runId, "{\"n\":1}")
      yield* storage.appendCheckpoint(runId, "{\"c\":1}")
      yield* storage.appendCheckpoint(runId, "{\"c\":2}")
      expect((yield* fs.readDirectory(runs)).sort()).toEqual([
        `${runId}.000000.change`,
        `${runId}.000001.change`,
        `${runId}.json`
      ])
      expect(yield* mode(path.join(runs, `${runId}.000000.change`))).toBe(0o644)
      expect(yield* storage.loadCheckpoints).toEqual([{ runId, json: "{\"n\":1}\n{\"c\":1}\n{\"c\":2}" }])

      // another process (a new storage on the same folder) appends after them
      const other = yield* openStorage(root)
      yield* other.appendCheckpoint(runId, "{\"c\":3}")
      expect((yield* storage.loadCheckpoints).map((c) => c.json)).toEqual(["{\"n\":1}\n{\"c\":1}\n{\"c\":2}\n{\"c\":3}"])

      // a crash after a whole checkpoint was written, before the changes were removed: they follow
      // the checkpoint before it, so they are not read as part of the new one
      const stale = yield* Effect.forEach(
        [0, 1, 2],
        (n) => fs.readFileString(path.join(runs, `${runId}.00000${n}.change`))
      )
      yield* storage.saveCheckpoint(runId, "{\"n\":2}")
      expect((yield* fs.readDirectory(runs)).sort()).toEqual([`${runId}.json`])
      yield* Effect.forEach(stale, (text, n) => fs.writeFileString(path.join(runs, `${runId}.00000${n}.change`), text))
      expect((yield* storage.loadCheckpoints).map((c) => c.json)).toEqual(["{\"n\":2}"])
      yield* storage.appendCheckpoint(runId, "{\"c\":4}")
      expect((yield* storage.loadCheckpoints).map((c) => c.json)).toEqual(["{\"n\":2}\n{\"c\":4}"])

      // appending to no checkpoint is an error and writes nothing
      const missing = yield* Effect.flip(storage.appendCheckpoint("2026-11-24T00-00-00.000Z-ffff", "{}"))
      expect(missing.message).toContain("there is no checkpoint of this run to append to")
      expect((yield* fs.readDirectory(runs)).filter((entry) => entry.includes("ffff"))).toEqual([])

      // pruned with their checkpoint
      yield* storage.pruneCheckpoints(0)
      expect(yield* fs.readDirectory(runs)).toEqual([])
    }))

  it.scoped("folders removed while the storage is open are made again by the next write, owner-only", () =>
    Effect.gen(function*() {
      const { fs, path, root, storage } = yield* setup
      const name = CertificateName.make("example")
      const holder = { runId: "2026-11-23T13-45-56.123Z-ab12", host: "test-host", pid: 4242 }
      const writeEverything = (version: number) =>
        Effect.gen(function*() {
          const lease = yield* storage.acquireLease({ certificate: name, holder, ttl: "1 hour" })
          const writes = storage.fenced(lease)
          const reference = yield* writes.savePendingKey(`key-${version}`)
          yield* writes.saveCertificate(certificate(version))
          yield* storage.saveRunCheckpoint({ holder, json: `{"n":${version}}`, lease })
          yield* storage.releaseLease(lease)
          return reference
        })
      // the first round makes (and the storage remembers) every folder
      yield* writeEverything(1)
      for (const folder of ["runs", "leases", "pending", "live", "archive"]) {
        yield* fs.remove(path.join(root, folder), { recursive: true })
      }
      const reference = yield* writeEverything(2)
      expect(Option.map(yield* storage.loadCertificate(name), (c) => c.fullchainPem)).toEqual(Option.some("fullchain-v2\n"))
      expect(yield* storage.loadPendingKey(reference)).toEqual(Option.some("key-2"))
      expect(yield* storage.loadCheckpoints).toEqual([{ runId: holder.runId, json: "{\"n\":2}", holder }])
      for (const folder of ["runs", "leases", "pending", "live", "archive", "archive/example"]) {
        expect(yield* mode(path.join(root, folder))).toBe(0o700)
      }
    }))

  it.scoped("a reader of live/ always finds a matching cert and key while 20 saves swap the link", () =>
    Effect.gen(function*() {
      const { fs, path, root, storage } = yield* setup
      yield* storage.saveCertificate(certificate(0))
      const live = path.join(root, "live", "example")
      const done = yield* Ref.make(false)
      const pairs = yield* Ref.make<ReadonlyArray<readonly [string, string]>>([])
      const singles = yield* Ref.make<ReadonlyArray<string>>([])
      const versionOf = (text: string) => /^(?:cert|key)-v(\d+)\n$/.exec(text)?.[1] ?? `bad:${JSON.stringify(text)}`
      const reader = Effect.gen(function*() {
        while (!(yield* Ref.get(done))) {
          // what a careful reader (a server loading its files) does: resolve the link once, read both
          const directory = yield* fs.realPath(live)
          const cert = yield* fs.readFileString(path.join(directory, "cert.pem"))
          const key = yield* fs.readFileString(path.join(directory, "privkey.pem"))
          yield* Ref.update(pairs, (all) => [...all, [versionOf(cert), versionOf(key)] as const])
          // every single read through the live path is a whole file of some version
          const naive = yield* fs.readFileString(path.join(live, "cert.pem"))
          yield* Ref.update(singles, (all) => [...all, versionOf(naive)])
        }
      })
      const fiber = yield* Effect.fork(reader)
      for (let version = 1; version <= 20; version++) {
        yield* storage.saveCertificate(certificate(version))
        yield* Effect.yieldNow()
      }
      yield* Ref.set(done, true)
      yield* Fiber.join(fiber)
      const read = yield* Ref.get(pairs)
      expect(read.length).toBeGreaterThan(20)
      for (const [cert, key] of read) expect(cert).toBe(key)
      for (const version of yield* Ref.get(singles)) expect(version).toMatch(/^\d+$/)
      // the reader saw several versions, not only the first and the last
      expect(new Set(read.map(([cert]) => cert)).size).toBeGreaterThan(2)
      expect(yield* storage.loadCertificateKey(CertificateName.make("example"))).toEqual(Option.some("key-v20\n"))
    }))

  it.scoped("keeps the newest 5 versions", () =>
    Effect.gen(function*() {
      const { fs, path, root, storage } = yield* setup
      for (let version = 1; version <= 8; version++) yield* storage.saveCertificate(certificate(version))
      const versions = (yield* fs.readDirectory(path.join(root, "archive", "example"))).map(Number).sort((a, b) => a - b)
      expect(versions).toEqual([4, 5, 6, 7, 8])
      expect(yield* fs.readLink(path.join(root, "live", "example"))).toBe("../archive/example/8")
      expect(yield* fs.readFileString(path.join(root, "archive", "example", "4", "cert.pem"))).toBe("cert-v4\n")
    }))

  it.scoped("migrates a real live/<name> folder into the archive before the first save", () =>
    Effect.gen(function*() {
      const { fs, parent, path } = yield* setup
      const root = path.join(parent, "older")
      const old = path.join(root, "live", "example")
      yield* fs.makeDirectory(old, { recursive: true })
      yield* fs.writeFileString(path.join(old, "cert.pem"), "cert-old\n")
      yield* fs.writeFileString(path.join(old, "chain.pem"), "chain-old\n")
      yield* fs.writeFileString(path.join(old, "fullchain.pem"), "fullchain-old\n")
      yield* fs.writeFileString(path.join(old, "privkey.pem"), "key-old\n", { mode: 0o600 })
      yield* fs.writeFileString(path.join(old, "metadata.json"), JSON.stringify(metadata("0a")))
      const storage = yield* openStorage(root)

      // readable as it is
      const before = yield* storage.loadCertificate(CertificateName.make("example"))
      assert(Option.isSome(before))
      expect(before.value.fullchainPem).toBe("fullchain-old\n")
      expect(yield* storage.listCertificates).toEqual(["example"])

      yield* storage.saveCertificate(certificate(2))
      expect(yield* fs.readLink(old)).toBe("../archive/example/2")
      const v1 = path.join(root, "archive", "example", "1")
      expect(yield* fs.readFileString(path.join(v1, "cert.pem"))).toBe("cert-old\n")
      expect(yield* fs.readFileString(path.join(v1, "privkey.pem"))).toBe("key-old\n")
      expect(yield* mode(path.join(v1, "privkey.pem"))).toBe(0o600)
      expect(JSON.parse(yield* fs.readFileString(path.join(v1, "metadata.json")))).toEqual(metadata("0a"))
      expect(yield* storage.loadCertificateKey(CertificateName.make("example"))).toEqual(Option.some("key-v2\n"))
      // nothing of the old folder is left in live/
      expect(yield* fs.readDirectory(path.join(root, "live"))).toEqual(["example"])
    }))

  it.scoped("migrates a certbot-style folder whose files are links into archive/", () =>
    Effect.gen(function*() {
      const { fs, parent, path } = yield* setup
      const root = path.join(parent, "certbot")
      const archive = path.join(root, "archive", "example")
      const live = path.join(root, "live", "example")
      yield* fs.makeDirectory(archive, { recursive: true })
      yield* fs.makeDirectory(live, { recursive: true })
      for (const file of ["cert", "chain", "fullchain", "privkey"]) {
        yield* fs.writeFileString(path.join(archive, `${file}1.pem`), `${file}-certbot\n`)
        yield* fs.symlink(`../../archive/example/${file}1.pem`, path.join(live, `${file}.pem`))
      }
      yield* fs.writeFileString(path.join(live, "README"), "certbot readme\n")
      const storage = yield* openStorage(root)
      // no metadata.json: not a certificate this storage knows yet
      expect(yield* storage.loadCertificate(CertificateName.make("example"))).toEqual(Option.none())

      yield* storage.saveCertificate(certificate(2))
      const v1 = path.join(archive, "1")
      expect(yield* fs.readFileString(path.join(v1, "fullchain.pem"))).toBe("fullchain-certbot\n")
      expect(yield* fs.readFileString(path.join(v1, "privkey.pem"))).toBe("privkey-certbot\n")
      expect(yield* mode(path.join(v1, "privkey.pem"))).toBe(0o600)
      expect(yield* fs.readLink(live)).toBe("../archive/example/2")
      // certbot's own archive files are left alone
      expect(yield* fs.readFileString(path.join(archive, "cert1.pem"))).toBe("cert-certbot\n")
    }))

  it.scoped("removes temp files a crash left behind before its first write (older than 15 minutes)", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.now())
      const { fs, path, root, storage } = yield* setup
      yield* storage.saveCertificate(certificate(1))
      yield* storage.saveCheckpoint("2026-11-23T13-45-56.123Z-ab12", "{}")
      yield* storage.saveAccountKey(directoryUrl, "default", "key\n")
      const stale = [
        path.join(root, "live", ".example.tmp-0123abcd"),
        path.join(root, "archive", "example", "1", ".cert.pem.tmp-00ff00ff"),
        path.join(root, "archive", "example", ".metadata.json.tmp-aa"),
        path.join(root, "runs", ".2026-11-23T13-45-56.123Z-ab12.json.tmp-1234"),
        path.join(root, "pending", ".example.run.key.tmp-99"),
        path.join(root, "accounts", "127.0.0.1_14000", "default", ".account.key.tmp-77")
      ]
      yield* fs.makeDirectory(path.join(root, "pending"))
      const dayAgo = new Date(Date.now() - 86_400_000)
      for (const file of stale) {
        yield* fs.writeFileString(file, "partial")
        yield* fs.utimes(file, dayAgo, dayAgo)
      }
      // a temp symlink (from an interrupted swap) is stale whatever its age
      const staleLink = path.join(root, "live", ".example.tmp-feed")
      yield* fs.symlink("../archive/example/1", staleLink)
      stale.push(staleLink)
      const fresh = path.join(root, "runs", ".2026-11-23T13-45-57.000Z-0000.json.tmp-abcd")
      yield* fs.writeFileString(fresh, "being written by another process")

      const reopened = yield* openStorage(root)
      // a process that only reads lists no folder for them
      expect(Option.isSome(yield* reopened.loadCertificate(CertificateName.make("example")))).toBe(true)
      for (const file of stale) expect(yield* fs.exists(file)).toBe(true)
      // they are swept before the process's first write
      yield* reopened.saveCheckpoint("2026-11-23T13-45-58.000Z-cd34", "{}")
      for (const file of stale) expect(yield* fs.exists(file)).toBe(false)
      // younger than 15 minutes: may be a write in progress in another process
      expect(yield* fs.exists(fresh)).toBe(true)
      expect(yield* fs.readFileString(path.join(root, "live", "example", "cert.pem"))).toBe("cert-v1\n")
      expect(yield* reopened.loadCheckpoints).toHaveLength(2)
    }))

  it.scoped("refuses unsafe names with InvalidName and creates nothing", () =>
    Effect.gen(function*() {
      const { fs, parent, root, storage } = yield* setup
      for (const name of ["../x", "a/b", ".hidden", "", "..", "a\\b", "x".repeat(65)]) {
        const attempts = [
          storage.saveCertificate(certificate(1, name)),
          storage.loadCertificate(unchecked(name)),
          storage.loadCertificateKey(unchecked(name)),
          storage.updateMetadata(unchecked(name), metadata("01", name)),
          storage.savePendingKey(unchecked(name), "2026-11-23T13-45-56.123Z-ab12", "k"),
          storage.savePendingKey(CertificateName.make("example"), name, "k"),
          storage.loadAccount(directoryUrl, name),
          storage.saveAccountKey(directoryUrl, name, "k"),
          storage.saveAccountInfo(directoryUrl, name, {
            url: "u",
            directoryUrl,
            contact: [],
            createdAt: "c",
            keyThumbprint: "t"
          }),
          storage.saveCheckpoint(name, "{}")
        ]
        for (const attempt of attempts) {
          const error = yield* Effect.flip(attempt)
          expect(error.reason).toBe("InvalidName")
          expect(error.message.split("\n")).toHaveLength(1)
        }
      }
      expect(yield* fs.readDirectory(root)).toEqual([])
      expect(yield* fs.readDirectory(parent)).toEqual(["storage"])
    }))

  it.scoped("a file that does not decode is Corrupt, naming the file", () =>
    Effect.gen(function*() {
      const { fs, path, root, storage } = yield* setup
      yield* storage.saveCertificate(certificate(1))
      const file = path.join(root, "archive", "example", "1", "metadata.json")
      yield* fs.writeFileString(file, JSON.stringify({ ...metadata("01"), version: 7 }))
      const error = yield* Effect.flip(storage.loadCertificate(CertificateName.make("example")))
      expect(error.reason).toBe("Corrupt")
      expect(error.path).toBe(file)
      expect(error.message).toContain("version")
      expect(error.message.split("\n")).toHaveLength(1)

      yield* fs.writeFileString(file, "{ not json")
      expect((yield* Effect.flip(storage.loadCertificate(CertificateName.make("example")))).reason).toBe("Corrupt")

      yield* storage.saveAccountKey(directoryUrl, "default", "key\n")
      const info = path.join(root, "accounts", "127.0.0.1_14000", "default", "account.json")
      yield* fs.writeFileString(info, "[]")
      const accountError = yield* Effect.flip(storage.loadAccount(directoryUrl, "default"))
      expect(accountError.reason).toBe("Corrupt")
      expect(accountError.path).toBe(info)
    }))

  describe("storage that cannot be written", () => {
    // Tests run as root here, and root ignores file modes (chmod 0555 would not stop it). An immutable
    // folder (chattr +i, ext4/xfs/btrfs) stops root too, with EPERM; as another user chmod 0555 does.
    if (readOnlyFolders._tag === "Fail") {
      it("a folder can be made read-only here", () => {
        expect.fail(Requirement.message(readOnlyFolders))
      })
    }

    it.scoped.skipIf(readOnlyFolders._tag !== "Run")(
      `a read-only folder gives ReadOnly with the path, and leaves the stored files as they were${
        Requirement.note(readOnlyFolders)
      }`,
      () =>
        Effect.gen(function*() {
          const { fs, path, root, storage } = yield* setup
          yield* storage.saveCertificate(certificate(1))
          yield* storage.saveCheckpoint("2026-11-23T13-45-56.123Z-ab12", "{}")
          // every folder (chattr does not take symlinks): nothing can be created, renamed or removed
          const lock = (on: boolean) =>
            execFileSync(
              "find",
              [root, "-type", "d", "-exec", ...(isRoot ? ["chattr", on ? "+i" : "-i"] : ["chmod", on ? "a-w" : "u+w"]), "{}", "+"],
              { stdio: "ignore" }
            )
          // unlocked before the temp folder is removed, even when locking stopped half way
          yield* Effect.addFinalizer(() => Effect.ignore(Effect.try(() => lock(false))))
          yield* Effect.sync(() => lock(true))

          const error = yield* Effect.flip(storage.saveCertificate(certificate(2)))
          expect(error.reason).toBe("ReadOnly")
          expect(error.path.startsWith(root)).toBe(true)
          expect(error.message).toContain(error.path)
          expect(error.message.split("\n")).toHaveLength(1)
          const checkpoint = yield* Effect.flip(storage.saveCheckpoint("2026-11-23T13-45-57.000Z-0000", "{}"))
          expect(checkpoint.reason).toBe("ReadOnly")
          expect(checkpoint.path).toBe(path.join(root, "runs", "2026-11-23T13-45-57.000Z-0000.json"))
          const account = yield* Effect.flip(storage.saveAccountKey(directoryUrl, "default", "k"))
          expect(account.reason).toBe("ReadOnly")

          expect(yield* fs.readLink(path.join(root, "live", "example"))).toBe("../archive/example/1")
          expect(yield* storage.loadCertificateKey(CertificateName.make("example"))).toEqual(Option.some("key-v1\n"))
          expect(yield* fs.readDirectory(path.join(root, "archive", "example"))).toEqual(["1"])
          expect((yield* storage.loadCheckpoints).map((c) => c.json)).toEqual(["{}"])
        })
    )

    if (sysFolder._tag === "Fail") {
      it("/sys is there", () => {
        expect.fail(Requirement.message(sysFolder))
      })
    }

    it.scoped.skipIf(sysFolder._tag !== "Run")("a folder under /sys gives ReadOnly (EPERM, even for root)", () =>
      Effect.gen(function*() {
        const storage = yield* openStorage("/sys/acme-storage-test")
        const error = yield* Effect.flip(storage.saveCheckpoint("2026-11-23T13-45-56.123Z-ab12", "{}"))
        expect(error.reason).toBe("ReadOnly")
        expect(error.path).toBe("/sys/acme-storage-test/runs")
      }))

    it.scoped("a file where a folder should be gives Io with the path", () =>
      Effect.gen(function*() {
        const { fs, parent, path } = yield* setup
        const file = path.join(parent, "a-file")
        yield* fs.writeFileString(file, "not a folder")
        const storage = yield* openStorage(file)
        const error = yield* Effect.flip(storage.saveCertificate(certificate(1)))
        expect(error.reason).toBe("Io")
        expect(error.path).toBe(path.join(file, "live"))
        expect(error.message.split("\n")).toHaveLength(1)
        expect(yield* fs.readFileString(file)).toBe("not a folder")
        const read = yield* Effect.flip(storage.loadCertificate(CertificateName.make("example")))
        expect(read.reason).toBe("Io")
        expect(read.path).toBe(path.join(file, "live", "example"))
      }))
  })

  describe("crash points", () => {
    it.scoped("a crash before cert.pem is renamed leaves the previous version live and loadable", () =>
      Effect.gen(function*() {
        const { fs, path, root, storage } = yield* setup
        yield* storage.saveCertificate(certificate(1))
        const exit = yield* Effect.exit(storage.saveCertificate(certificate(2)).pipe(crashAt("write:cert.pem:before-rename")))
        assert(Exit.isFailure(exit))
        expect(Exit.isInterrupted(exit)).toBe(false)
        expect(yield* fs.readLink(path.join(root, "live", "example"))).toBe("../archive/example/1")
        const loaded = yield* storage.loadCertificate(CertificateName.make("example"))
        assert(Option.isSome(loaded))
        expect(loaded.value.fullchainPem).toBe("fullchain-v1\n")
        expect(loaded.value.metadata.serialNumber).toBe("01")
        expect(yield* storage.loadCertificateKey(CertificateName.make("example"))).toEqual(Option.some("key-v1\n"))
        // the run that comes next replaces the half-written version
        yield* storage.saveCertificate(certificate(3))
        expect(yield* fs.readLink(path.join(root, "live", "example"))).toBe("../archive/example/2")
        expect(yield* fs.readFileString(path.join(root, "live", "example", "cert.pem"))).toBe("cert-v3\n")
        const everything = yield* fs.readDirectory(root, { recursive: true })
        expect(everything.filter((entry) => entry.includes(".tmp-"))).toEqual([])
      }))

    it.scoped("a crash just before the swap of live/ leaves the previous version", () =>
      Effect.gen(function*() {
        const { fs, path, root, storage } = yield* setup
        yield* storage.saveCertificate(certificate(1))
        const exit = yield* Effect.exit(storage.saveCertificate(certificate(2)).pipe(crashAt("write:live:before-swap")))
        assert(Exit.isFailure(exit))
        expect(yield* fs.readLink(path.join(root, "live", "example"))).toBe("../archive/example/1")
        expect(yield* storage.loadCertificateKey(CertificateName.make("example"))).toEqual(Option.some("key-v1\n"))
        expect(yield* fs.readDirectory(path.join(root, "live"))).toEqual(["example"])
      }))

    it.scoped("a crash before a key is renamed leaves no key file behind", () =>
      Effect.gen(function*() {
        const { fs, path, root, storage } = yield* setup
        const exit = yield* Effect.exit(
          storage.savePendingKey(CertificateName.make("example"), "run-1", "k").pipe(crashAt("write:example.run-1.key:before-rename"))
        )
        assert(Exit.isFailure(exit))
        expect(yield* fs.readDirectory(path.join(root, "pending"))).toEqual([])
        expect(yield* storage.loadPendingKey("pending/example.run-1.key")).toEqual(Option.none())
      }))
  })
})
