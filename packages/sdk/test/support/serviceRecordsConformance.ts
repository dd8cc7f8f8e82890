/**
 * The records conformance suite: the same tests for every `ServiceRecords.Store` (memory, the storage
 * folder, Postgres). Call it inside a `layer(...)` block with an effect that makes fresh, empty
 * records for each test:
 *
 * ```ts
 * layer(Layer.empty)("in memory", (it) => serviceRecordsConformance(it, Effect.sync(ServiceRecords.makeMemory)))
 * ```
 */
import { CertificateName, type ServiceRecords } from "@acme/sdk"
import { expect, type Vitest } from "@effect/vitest"
import { Effect, Option } from "effect"
import type * as Scope from "effect/Scope"

type Store = ServiceRecords.Store

export const task = (id: string, createdAt: string, status: ServiceRecords.TaskStatus = "queued"): ServiceRecords.Task => ({
  id,
  action: "renew",
  certificate: CertificateName.make("web"),
  force: true,
  status,
  requestedBy: "k_1",
  createdAt
})

export const apiKey = (id: string, createdAt: string): ServiceRecords.ApiKey => ({
  id,
  name: `key ${id}`,
  scope: "read",
  sha256: "ab".repeat(32),
  createdAt
})

export const auditEntry = (time: string, action = "renew"): ServiceRecords.AuditEntry => ({
  time,
  actor: "k_1",
  action,
  certificate: "web",
  result: "queued"
})

/** a finished task with every optional field set */
const fullTask: ServiceRecords.Task = {
  id: "t20261201T120000Z-0a1b2c3d",
  action: "revoke",
  certificate: CertificateName.make("api"),
  reason: "keyCompromise",
  status: "failed",
  requestedBy: "scheduler",
  holder: { runId: "serve-20261201T115900Z-01020304", host: "host-a", pid: 4242 },
  createdAt: "2026-12-01T12:00:00.000Z",
  startedAt: "2026-12-01T12:00:01.000Z",
  finishedAt: "2026-12-01T12:00:05.000Z",
  result: {
    version: 1,
    command: "revoke",
    runId: "2026-12-01T12-00-01.000Z-abcd",
    directoryUrl: "https://127.0.0.1:14000/dir",
    resumed: false,
    dryRun: false,
    certificates: [{
      name: "api",
      domains: ["api.example.org", "*.api.example.org"],
      action: "failed",
      reason: "the CA said: unauthorized \"ünïcode\"\nsecond line",
      error: { type: "Unauthorized", message: "no", stage: "revoke" }
    }],
    counts: { renewed: 0, skipped: 0, failed: 1, revoked: 0 }
  },
  error: { type: "Unauthorized", message: "api: the CA said no" }
}

export const serviceRecordsConformance = <R, E>(
  it: Vitest.MethodsNonLive<R>,
  fresh: Effect.Effect<Store, E, R | Scope.Scope>
): void => {
  const test = (name: string, body: (records: Store) => Effect.Effect<void, unknown, R | Scope.Scope>) =>
    it.scoped(name, () => Effect.flatMap(fresh, body))

  test("tasks: save, replace, load, list oldest first, delete", (records) =>
    Effect.gen(function*() {
      expect(yield* records.listTasks).toEqual([])
      yield* records.saveTask(task("t2", "2026-01-02T00:00:00.000Z"))
      yield* records.saveTask(task("t1", "2026-01-01T00:00:00.000Z"))
      yield* records.saveTask(task("t0", "2026-01-02T00:00:00.000Z"))
      yield* records.saveTask({ ...task("t2", "2026-01-02T00:00:00.000Z", "succeeded"), finishedAt: "2026-01-02T00:01:00.000Z" })
      // oldest first, ties by id
      expect((yield* records.listTasks).map((t) => [t.id, t.status])).toEqual([
        ["t1", "queued"],
        ["t0", "queued"],
        ["t2", "succeeded"]
      ])
      expect(Option.map(yield* records.loadTask("t2"), (t) => t.finishedAt)).toEqual(Option.some("2026-01-02T00:01:00.000Z"))
      expect(Option.isNone(yield* records.loadTask("nope"))).toBe(true)
      expect(Option.isNone(yield* records.loadTask("../escape"))).toBe(true)
      yield* records.deleteTask("t1")
      yield* records.deleteTask("t1")
      expect((yield* records.listTasks).map((t) => t.id)).toEqual(["t0", "t2"])
    }))

  test("a task with every field comes back as it was saved", (records) =>
    Effect.gen(function*() {
      yield* records.saveTask(fullTask)
      expect(yield* records.loadTask(fullTask.id)).toEqual(Option.some(fullTask))
      expect(yield* records.listTasks).toEqual([fullTask])
      // and absent fields stay absent
      const plain = task("t1", "2026-01-01T00:00:00.000Z")
      yield* records.saveTask(plain)
      const loaded = Option.getOrThrow(yield* records.loadTask("t1"))
      expect(loaded).toEqual(plain)
      expect("holder" in loaded).toBe(false)
    }))

  test("API keys: save, revoke, list oldest first", (records) =>
    Effect.gen(function*() {
      expect(yield* records.listApiKeys).toEqual([])
      yield* records.saveApiKey(apiKey("k_b", "2026-01-02T00:00:00.000Z"))
      yield* records.saveApiKey({ ...apiKey("k_a", "2026-01-01T00:00:00.000Z"), scope: "write", sha256: "0f".repeat(32) })
      yield* records.saveApiKey({ ...apiKey("k_b", "2026-01-02T00:00:00.000Z"), revokedAt: "2026-01-03T00:00:00.000Z" })
      const keys = yield* records.listApiKeys
      expect(keys).toEqual([
        { id: "k_a", name: "key k_a", scope: "write", sha256: "0f".repeat(32), createdAt: "2026-01-01T00:00:00.000Z" },
        { ...apiKey("k_b", "2026-01-02T00:00:00.000Z"), revokedAt: "2026-01-03T00:00:00.000Z" }
      ])
      expect("revokedAt" in (keys[0] ?? {})).toBe(false)
    }))

  test("the audit log: lines in the order they were appended, from `since` (inclusive) on", (records) =>
    Effect.gen(function*() {
      expect(yield* records.readAudit()).toEqual([])
      yield* records.appendAudit(auditEntry("2026-01-01T00:00:00.000Z"))
      yield* records.appendAudit({
        ...auditEntry("2026-01-02T00:00:00.000Z", "revoke"),
        task: "t1",
        detail: "a detail, with \"quotes\"\nand a newline"
      })
      // a line whose time is earlier than the one before it stays where it was appended
      yield* records.appendAudit({ time: "2026-01-01T12:00:00.000Z", actor: "cli", action: "apikey.create", result: "created" })
      yield* records.appendAudit(auditEntry("2026-01-03T00:00:00.000Z", "apikey.revoke"))
      expect((yield* records.readAudit()).map((e) => e.action)).toEqual(["renew", "revoke", "apikey.create", "apikey.revoke"])
      expect((yield* records.readAudit("2026-01-02T00:00:00.000Z")).map((e) => e.action)).toEqual(["revoke", "apikey.revoke"])
      expect(yield* records.readAudit("2027-01-01T00:00:00.000Z")).toEqual([])
      const [, second, third] = yield* records.readAudit()
      expect(second).toEqual({
        ...auditEntry("2026-01-02T00:00:00.000Z", "revoke"),
        task: "t1",
        detail: "a detail, with \"quotes\"\nand a newline"
      })
      expect(third).toEqual({ time: "2026-01-01T12:00:00.000Z", actor: "cli", action: "apikey.create", result: "created" })
    }))

  test("ids that could leave a folder or a URL are refused", (records) =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(records.saveTask(task("../../etc/x", "2026-01-01T00:00:00.000Z")))
      expect(error.reason).toBe("InvalidName")
      expect((yield* Effect.flip(records.saveApiKey(apiKey("a/b", "2026-01-01T00:00:00.000Z")))).reason).toBe(
        "InvalidName"
      )
      expect((yield* Effect.flip(records.deleteTask("a/../b"))).reason).toBe("InvalidName")
      expect(yield* records.listTasks).toEqual([])
      expect(yield* records.listApiKeys).toEqual([])
    }))
}
