import { CaMetrics, ServiceRecords, Storage } from "@acme/sdk"
import { FileSystem, Path } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it, layer } from "@effect/vitest"
import { Effect, Layer, Metric, MetricLabel, TestClock } from "effect"
import { apiKey, auditEntry, serviceRecordsConformance, task } from "./support/serviceRecordsConformance.js"

describe("ServiceRecords", () => {
  layer(Layer.empty)("in memory", (it) => serviceRecordsConformance(it, Effect.sync(ServiceRecords.makeMemory)))

  layer(NodeContext.layer)("in the storage folder", (it) => {
    const setup = Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const root = yield* fs.makeTempDirectoryScoped({ prefix: "acme-records-" })
      const storage = yield* Storage.makeFileSystem(root)
      return { fs, path, root, records: storage.records ?? expect.unreachable("file storage keeps records") }
    })

    serviceRecordsConformance(it, Effect.map(setup, ({ records }) => records))

    it.scoped("in 0600 files under <root>/server (0700), the audit log as JSON lines", () =>
      Effect.gen(function*() {
        const { fs, path, records, root } = yield* setup
        yield* records.saveTask(task("t2", "2026-01-02T00:00:00.000Z"))
        yield* records.saveApiKey(apiKey("k_a", "2026-01-01T00:00:00.000Z"))
        yield* records.appendAudit(auditEntry("2026-01-01T00:00:00.000Z"))
        yield* records.appendAudit(auditEntry("2026-01-02T00:00:00.000Z", "revoke"))
        yield* records.appendAudit(auditEntry("2026-01-03T00:00:00.000Z", "apikey.create"))
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
        yield* records.appendAudit(auditEntry("2026-01-01T00:00:00.000Z"))
        const file = path.join(root, "server/audit.jsonl")
        yield* fs.writeFileString(file, "{\"time\":\"2026-01-0", { flag: "a" })
        expect((yield* records.readAudit()).length).toBe(1)
        yield* fs.writeFileString(file, "\n", { flag: "a" })
        yield* records.appendAudit(auditEntry("2026-01-02T00:00:00.000Z", "revoke"))
        // the cut line is now a whole line that is not an entry: the log is corrupt and says where
        const error = yield* Effect.flip(records.readAudit())
        expect(error.reason).toBe("Corrupt")
        expect(error.message).toContain("line 2 is not an audit entry")
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
