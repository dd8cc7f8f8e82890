import { CaMetrics, CertificateName, type ServiceRecords, Storage } from "@acme/sdk"
import { FileSystem, Path } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it, layer } from "@effect/vitest"
import { Effect, Metric, MetricLabel, Option, TestClock } from "effect"

const task = (id: string, createdAt: string, status: ServiceRecords.TaskStatus = "queued"): ServiceRecords.Task => ({
  id,
  action: "renew",
  certificate: CertificateName.make("web"),
  force: true,
  status,
  requestedBy: "k_1",
  createdAt
})

const key = (id: string, createdAt: string): ServiceRecords.ApiKey => ({
  id,
  name: `key ${id}`,
  scope: "read",
  sha256: "ab".repeat(32),
  createdAt
})

const entry = (time: string, action = "renew"): ServiceRecords.AuditEntry => ({
  time,
  actor: "k_1",
  action,
  certificate: "web",
  result: "queued"
})

/** the same behaviour from every storage that keeps records */
const behaves = (records: ServiceRecords.Store) =>
  Effect.gen(function*() {
    yield* records.saveTask(task("t2", "2026-01-02T00:00:00.000Z"))
    yield* records.saveTask(task("t1", "2026-01-01T00:00:00.000Z"))
    yield* records.saveTask({ ...task("t2", "2026-01-02T00:00:00.000Z", "succeeded"), finishedAt: "2026-01-02T00:01:00.000Z" })
    expect((yield* records.listTasks).map((t) => [t.id, t.status])).toEqual([["t1", "queued"], ["t2", "succeeded"]])
    expect(Option.map(yield* records.loadTask("t2"), (t) => t.finishedAt)).toEqual(Option.some("2026-01-02T00:01:00.000Z"))
    expect(Option.isNone(yield* records.loadTask("nope"))).toBe(true)
    expect(Option.isNone(yield* records.loadTask("../escape"))).toBe(true)
    yield* records.deleteTask("t1")
    expect((yield* records.listTasks).map((t) => t.id)).toEqual(["t2"])

    yield* records.saveApiKey(key("k_b", "2026-01-02T00:00:00.000Z"))
    yield* records.saveApiKey(key("k_a", "2026-01-01T00:00:00.000Z"))
    yield* records.saveApiKey({ ...key("k_b", "2026-01-02T00:00:00.000Z"), revokedAt: "2026-01-03T00:00:00.000Z" })
    expect((yield* records.listApiKeys).map((k) => [k.id, k.revokedAt])).toEqual([
      ["k_a", undefined],
      ["k_b", "2026-01-03T00:00:00.000Z"]
    ])

    yield* records.appendAudit(entry("2026-01-01T00:00:00.000Z"))
    yield* records.appendAudit(entry("2026-01-02T00:00:00.000Z", "revoke"))
    yield* records.appendAudit(entry("2026-01-03T00:00:00.000Z", "apikey.create"))
    expect((yield* records.readAudit()).map((e) => e.action)).toEqual(["renew", "revoke", "apikey.create"])
    expect((yield* records.readAudit("2026-01-02T00:00:00.000Z")).map((e) => e.action)).toEqual(["revoke", "apikey.create"])
  })

describe("ServiceRecords", () => {
  it.effect("in memory: tasks, API keys and the audit log", () =>
    Effect.gen(function*() {
      const storage = yield* Storage.makeMemory
      yield* behaves(storage.records ?? expect.unreachable("memory storage keeps records"))
    }))

  layer(NodeContext.layer)("in the storage folder", (it) => {
    const setup = Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const root = yield* fs.makeTempDirectoryScoped({ prefix: "acme-records-" })
      const storage = yield* Storage.makeFileSystem(root)
      return { fs, path, root, records: storage.records ?? expect.unreachable("file storage keeps records") }
    })

    it.scoped("the same behaviour, in 0600 files under <root>/server (0700)", () =>
      Effect.gen(function*() {
        const { fs, path, records, root } = yield* setup
        yield* behaves(records)
        const mode = (file: string) => Effect.map(fs.stat(path.join(root, file)), (info) => info.mode & 0o777)
        expect(yield* mode("server")).toBe(0o700)
        expect(yield* mode("server/tasks")).toBe(0o700)
        expect(yield* mode("server/tasks/t2.json")).toBe(0o600)
        expect(yield* mode("server/apikeys/k_a.json")).toBe(0o600)
        expect(yield* mode("server/audit.jsonl")).toBe(0o600)
        // no temp file is left behind
        expect((yield* fs.readDirectory(path.join(root, "server/tasks"))).sort()).toEqual(["t2.json"])
        // the audit log is JSON lines
        const lines = (yield* fs.readFileString(path.join(root, "server/audit.jsonl"))).trimEnd().split("\n")
        expect(lines.map((line) => JSON.parse(line).action)).toEqual(["renew", "revoke", "apikey.create"])
      }))

    it.scoped("a last audit line cut short by a crash is ignored, and the next line is whole", () =>
      Effect.gen(function*() {
        const { fs, path, records, root } = yield* setup
        yield* records.appendAudit(entry("2026-01-01T00:00:00.000Z"))
        const file = path.join(root, "server/audit.jsonl")
        yield* fs.writeFileString(file, "{\"time\":\"2026-01-0", { flag: "a" })
        expect((yield* records.readAudit()).length).toBe(1)
        yield* fs.writeFileString(file, "\n", { flag: "a" })
        yield* records.appendAudit(entry("2026-01-02T00:00:00.000Z", "revoke"))
        // the cut line is now a whole line that is not an entry: the log is corrupt and says where
        const error = yield* Effect.flip(records.readAudit())
        expect(error.reason).toBe("Corrupt")
        expect(error.message).toContain("line 2 is not an audit entry")
      }))

    it.scoped("ids that could leave the folder are refused", () =>
      Effect.gen(function*() {
        const { records } = yield* setup
        const error = yield* Effect.flip(records.saveTask(task("../../etc/x", "2026-01-01T00:00:00.000Z")))
        expect(error.reason).toBe("InvalidName")
        expect((yield* Effect.flip(records.saveApiKey(key("a/b", "2026-01-01T00:00:00.000Z")))).reason).toBe(
          "InvalidName"
        )
      }))

    it.scoped("a task file that is not a task is reported as corrupt, naming the file", () =>
      Effect.gen(function*() {
        const { fs, path, records, root } = yield* setup
        yield* records.saveTask(task("t1", "2026-01-01T00:00:00.000Z"))
        yield* fs.writeFileString(path.join(root, "server/tasks/t1.json"), "{\"id\": 1}")
        const error = yield* Effect.flip(records.listTasks)
        expect(error.reason).toBe("Corrupt")
        expect(error.message).toContain("t1.json")
      }))
  })
})

describe("CaMetrics.track", () => {
  const count = (endpoint: string, status: string) =>
    Effect.map(
      Metric.value(
        Metric.taggedWithLabels(CaMetrics.requests, [
          MetricLabel.make("endpoint", endpoint),
          MetricLabel.make("method", "POST"),
          MetricLabel.make("status", status)
        ])
      ),
      (state) => state.count
    )

  it.effect("counts each request by endpoint, method and status, and records its duration", () =>
    Effect.gen(function*() {
      const endpoint = `newOrder-${Math.random()}`
      const request = Effect.as(Effect.sleep("300 millis"), { status: 201 })
      const fiber = yield* Effect.fork(CaMetrics.track({ endpoint, method: "POST" })(request))
      yield* TestClock.adjust("300 millis")
      yield* fiber.await
      yield* CaMetrics.track({ endpoint, method: "POST" })(Effect.succeed({ status: 201 }))
      yield* Effect.exit(CaMetrics.track({ endpoint, method: "POST" })(Effect.fail("connection refused")))
      expect(yield* count(endpoint, "201")).toBe(2)
      expect(yield* count(endpoint, "error")).toBe(1)
      const histogram = yield* Metric.value(
        Metric.taggedWithLabels(CaMetrics.requestDuration, [
          MetricLabel.make("endpoint", endpoint),
          MetricLabel.make("method", "POST")
        ])
      )
      expect(histogram.count).toBe(3)
      expect(histogram.max).toBe(0.3)
    }))
})
