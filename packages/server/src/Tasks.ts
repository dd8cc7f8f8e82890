/**
 * The work queue: every renewal and revocation the API or the schedule asks for is a task, stored
 * through `Storage` (so that it survives a restart) and run one at a time through the SDK's own
 * programs, `Renewal.renew` and `Revocation.revoke`, exactly as `acme renew` and `acme revoke` run
 * them. A task that was queued or running when the process stopped is run again at start (a
 * renewal resumes from its checkpoint by itself).
 *
 * Several servers may share one storage. Each task has a holder, the server instance that queued
 * it or took it over, which holds a lease on the task (`internal/taskLeases.ts`) until the task's end
 * is stored. At start and then every `renewal.leaseTtl`, a server takes over the queued and running
 * tasks whose lease it can have: their server stopped (and let go), died (the lease expired), or was
 * a process of this host that is gone. A task another live server holds is left to it. Two servers
 * that renew the same certificates at once still order each one once: the renewal's own certificate
 * leases leave a certificate another run holds (or renewed meanwhile) alone.
 *
 * On shutdown the worker takes no new task. A running renewal stops at its next stage boundary
 * (once the stage that runs has finished and been checkpointed), or at once when it is only waiting
 * for a retry time; any task still running after `drainTimeout` is interrupted. An interrupted task
 * stays `running` and is run again at the next start, where the renewal resumes from its checkpoint
 * (the same order: no second one).
 *
 * @since 0.1.0
 */
import * as Reporter from "@acme/sdk/Reporter"
import { Renewal, Revocation } from "@acme/sdk"
import type { CertificateName, ServiceRecords } from "@acme/sdk"
import type { StorageError } from "@acme/sdk/StorageError"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Encoding from "effect/Encoding"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import { Current } from "./Environment.js"
import * as StopPoints from "./internal/stopPoints.js"
import * as TaskLeases from "./internal/taskLeases.js"
import * as Metrics from "./Metrics.js"
import * as Problem from "./Problem.js"

/**
 * What is asked for.
 *
 * @since 0.1.0
 * @category models
 */
export interface Request {
  readonly action: "renew" | "revoke"
  /** absent: every configured certificate (a scheduled renewal) */
  readonly certificate?: CertificateName.CertificateName | undefined
  readonly force?: boolean | undefined
  readonly reason?: ServiceRecords.Task["reason"]
  /** an API key id, or `scheduler` */
  readonly requestedBy: string
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** stores a queued task and queues it; 409 when the same work is queued or running already */
  readonly submit: (request: Request) => Effect.Effect<ServiceRecords.Task, Problem.Problem | StorageError>
  readonly get: (id: string) => Effect.Effect<Option.Option<ServiceRecords.Task>, StorageError>
  /** every task that finishes from now on, until the scope closes */
  readonly finished: Effect.Effect<Queue.Dequeue<ServiceRecords.Task>, never, Scope.Scope>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Tasks extends Context.Tag("@acme/server/Tasks")<Tasks, Service>() {}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** how long a running task may go on after shutdown began; default 8 seconds */
  readonly drainTimeout?: Duration.DurationInput | undefined
  /** finished tasks kept in storage (the oldest are removed); default 500 */
  readonly keepFinished?: number | undefined
}

const conflictKey = (request: Pick<Request, "action" | "certificate">) => `${request.action}:${request.certificate ?? "*"}`

const newId = Effect.map(DateTime.now, (now) =>
  `t${DateTime.formatIso(now).replace(/[-:]/g, "").replace(/\.\d+/, "")}-${
    Encoding.encodeHex(globalThis.crypto.getRandomValues(new Uint8Array(4)))
  }`)

const now = Effect.map(DateTime.now, DateTime.formatIso)

/** what the task's error says: the first certificate that failed, else nothing */
const reportError = (report: Reporter.RunReport): ServiceRecords.Task["error"] => {
  const failed = report.certificates.find((certificate) => certificate.action === "failed")
  return failed === undefined ? undefined : { type: failed.error?.type ?? "Failed", message: `${failed.name}: ${failed.reason}` }
}

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<Tasks, StorageError, Current> =>
  Layer.scoped(
    Tasks,
    Effect.gen(function*() {
      const current = yield* Current
      const queue = yield* Queue.unbounded<ServiceRecords.Task>()
      /** queued and running tasks by conflict key */
      const pending = yield* Ref.make<ReadonlyMap<string, string>>(new Map())
      const subscribers = yield* Ref.make<ReadonlyArray<Queue.Queue<ServiceRecords.Task>>>([])
      const stopping = yield* Ref.make(false)
      const running = yield* Ref.make<Option.Option<Fiber.RuntimeFiber<void>>>(Option.none())
      const stopPoints = yield* StopPoints.make
      // before the drain's finalizer: the leases of the tasks are let go once the running one stopped
      const leases = yield* TaskLeases.make(current)
      const records = Effect.map(current.get, (active) => active.records)
      const save = (task: ServiceRecords.Task) => Effect.flatMap(records, (r) => r.saveTask(task))
      const audit = (entry: ServiceRecords.AuditEntry) =>
        Effect.flatMap(records, (r) => r.appendAudit(entry)).pipe(
          Effect.catchAll((error) => Effect.logError(`cannot write the audit log: ${error.message}`))
        )

      const program = (
        task: ServiceRecords.Task
      ): Effect.Effect<
        Reporter.RunReport,
        Effect.Effect.Error<ReturnType<typeof Renewal.renew> | ReturnType<typeof Revocation.revoke>>,
        Renewal.Requirements
      > =>
        task.action === "renew"
          ? Renewal.renew({ force: task.force ?? false, only: task.certificate === undefined ? [] : [task.certificate] })
          : Revocation.revoke({ names: task.certificate === undefined ? [] : [task.certificate], reason: task.reason })

      const execute = (queued: ServiceRecords.Task): Effect.Effect<void> =>
        Effect.gen(function*() {
          if (!(yield* leases.holds(queued.id))) {
            return yield* Effect.logInfo(`task ${queued.id} is not run here: another server took it over`)
          }
          const started = yield* Clock.currentTimeMillis
          const task: ServiceRecords.Task = { ...queued, status: "running", startedAt: yield* now }
          yield* save(task)
          const exit = yield* current.use((active) => Effect.provide(stopPoints.around(program(task)), active.context)).pipe(
            Effect.withSpan("Server.task", {
              attributes: { "acme.task": task.id, "acme.action": task.action, "acme.certificate": task.certificate ?? "*" }
            }),
            Effect.exit
          )
          const seconds = ((yield* Clock.currentTimeMillis) - started) / 1000
          const finishedAt = yield* now
          const done: ServiceRecords.Task = Exit.match(exit, {
            onSuccess: (report) => ({
              ...task,
              status: Reporter.hasFailures(report) ? "failed" as const : "succeeded" as const,
              finishedAt,
              result: report,
              error: reportError(report)
            }),
            onFailure: (cause) => {
              const failure = Cause.failureOption(cause)
              return {
                ...task,
                status: "failed" as const,
                finishedAt,
                error: Option.match(failure, {
                  onNone: () => ({ type: "Internal", message: "the task stopped on an internal error; see the server log" }),
                  onSome: (error) => ({ type: error._tag, message: error.message })
                })
              }
            }
          })
          if (Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause)) return
          if (Exit.isFailure(exit)) yield* Effect.logError(`task ${task.id} failed`, exit.cause)
          if (!(yield* leases.holds(task.id))) {
            // paused past the task's lease: another server runs it now, and its record is that server's
            return yield* Effect.logWarning(`task ${task.id} ended here after another server took it over; its record is left to that server`)
          }
          yield* save(done)
          if (done.result !== undefined) yield* Metrics.fromRun(done.result, seconds)
          for (const certificate of done.result?.certificates ?? []) {
            yield* audit({
              time: finishedAt,
              actor: done.requestedBy,
              action: done.action,
              certificate: certificate.name,
              result: certificate.action,
              task: done.id,
              detail: certificate.reason
            })
          }
          if (done.result === undefined) {
            yield* audit({
              time: finishedAt,
              actor: done.requestedBy,
              action: done.action,
              certificate: done.certificate,
              result: "failed",
              task: done.id,
              detail: done.error?.message
            })
          }
          yield* Effect.forEach(yield* Ref.get(subscribers), (subscriber) => Queue.offer(subscriber, done))
          yield* prune
        }).pipe(
          Effect.catchAll((error) => Effect.logError(`task ${queued.id}: ${error.message}`)),
          Effect.ensuring(Ref.update(pending, (map) => {
            const next = new Map(map)
            if (next.get(conflictKey(queued)) === queued.id) next.delete(conflictKey(queued))
            return next
          })),
          // once its end is stored (or it was interrupted: then another server, or the next start, runs it again)
          Effect.ensuring(leases.release(queued.id))
        )

      const keepFinished = options.keepFinished ?? 500
      const prune = Effect.gen(function*() {
        const all = yield* Effect.flatMap(records, (r) => r.listTasks)
        const finished = all.filter((task) => task.status === "succeeded" || task.status === "failed")
        const extra = finished.slice(0, Math.max(0, finished.length - keepFinished))
        yield* Effect.forEach(extra, (task) => Effect.flatMap(records, (r) => r.deleteTask(task.id)), { discard: true })
      })

      // the worker: one task at a time, each in a fiber of its own so that shutdown can wait for it
      const worker = Effect.gen(function*() {
        for (;;) {
          const task = yield* Queue.take(queue)
          const fiber = yield* Effect.uninterruptible(Effect.gen(function*() {
            if (yield* Ref.get(stopping)) return Option.none()
            const forked = yield* Effect.forkDaemon(execute(task))
            yield* Ref.set(running, Option.some(forked))
            return Option.some(forked)
          }))
          if (Option.isNone(fiber)) return
          yield* Fiber.await(fiber.value)
          yield* Ref.set(running, Option.none())
        }
      })

      const isOpen = (task: ServiceRecords.Task) => task.status === "queued" || task.status === "running"
      const describe = (task: ServiceRecords.Task) =>
        `task ${task.id} (${task.action} ${task.certificate ?? "all"}) was ${task.status}${
          task.holder === undefined ? "" : ` under server ${task.holder.runId} (pid ${task.holder.pid} on ${task.holder.host})`
        }; running it again`

      // tasks a stopped (or dead) server left queued or running: those whose lease can be had
      const adopt = Effect.gen(function*() {
        for (const listed of yield* Effect.flatMap(records, (r) => r.listTasks)) {
          if (!isOpen(listed) || (yield* leases.holds(listed.id)) || (yield* Ref.get(stopping))) continue
          if (Either.isLeft(yield* leases.take(listed.id))) continue // another live server runs it
          // as it is now that nobody else can take it: its server may have stored its end meanwhile
          const task = yield* Effect.flatMap(records, (r) => r.loadTask(listed.id))
          if (Option.isNone(task) || !isOpen(task.value)) {
            yield* leases.release(listed.id)
            continue
          }
          const mine: ServiceRecords.Task = { ...task.value, holder: yield* leases.holder }
          yield* save(mine).pipe(Effect.tapError(() => leases.release(listed.id)))
          yield* Ref.update(pending, (map) => new Map(map).set(conflictKey(mine), mine.id))
          yield* Queue.offer(queue, mine)
          yield* Effect.logInfo(describe(task.value))
        }
      })
      yield* adopt
      const adoptEvery = (yield* current.get).settings.config.renewal.leaseTtl
      yield* adopt.pipe(
        Effect.catchAll((error) => Effect.logError(`cannot look for tasks to take over: ${error.message}`)),
        Effect.schedule(Schedule.spaced(adoptEvery)),
        Effect.interruptible,
        Effect.forkScoped
      )

      yield* Effect.forkScoped(worker)
      const drainTimeout = options.drainTimeout ?? "8 seconds"
      yield* Effect.addFinalizer(() =>
        Effect.gen(function*() {
          yield* Ref.set(stopping, true)
          yield* stopPoints.stop
          const fiber = yield* Ref.get(running)
          if (Option.isNone(fiber)) return
          if (yield* stopPoints.waiting) {
            yield* Effect.logInfo("stopping: the running renewal waits for a retry; it resumes from its checkpoint at the next start")
            return yield* Fiber.interrupt(fiber.value)
          }
          yield* Effect.logInfo(
            `stopping: the running task stops at its next checkpoint (waiting up to ${Duration.format(drainTimeout)})`
          )
          const finished = yield* Fiber.await(fiber.value).pipe(Effect.timeout(drainTimeout), Effect.option)
          if (Option.isNone(finished)) {
            yield* Effect.logWarning("stopping: the running task is interrupted; it resumes from its checkpoint at the next start")
            yield* Fiber.interrupt(fiber.value)
          }
        })
      )

      /** a queued or running task of another live server for the same work */
      const busyElsewhere = (key: string) =>
        Effect.gen(function*() {
          for (const task of yield* Effect.flatMap(records, (r) => r.listTasks)) {
            if (isOpen(task) && conflictKey(task) === key && (yield* leases.isLeased(task.id))) return task.id
          }
          return undefined
        })

      const service: Service = {
        submit: (request) =>
          Effect.gen(function*() {
            const key = conflictKey(request)
            // another server's open task for the same work is a conflict for a request, not for the
            // schedule: each server's schedule runs (a stuck server never holds up the others'), and
            // the certificate leases keep two scheduled runs from ordering a certificate twice
            const busy = (yield* Ref.get(pending)).get(key) ??
              (request.requestedBy === "scheduler" ? undefined : yield* busyElsewhere(key))
            if (busy !== undefined) {
              return yield* Problem.make(
                409,
                `${request.certificate ?? "every certificate"} is already queued or being ${
                  request.action === "renew" ? "renewed" : "revoked"
                } (task ${busy}); poll /v1/tasks/${busy}`
              )
            }
            const task: ServiceRecords.Task = {
              id: yield* newId,
              action: request.action,
              certificate: request.certificate,
              force: request.action === "renew" ? request.force ?? false : undefined,
              reason: request.action === "revoke" ? request.reason ?? "unspecified" : undefined,
              status: "queued",
              requestedBy: request.requestedBy,
              holder: yield* leases.holder,
              createdAt: yield* now
            }
            // the lease before the record: another server never sees the task without its holder's lease
            const got = yield* leases.take(task.id)
            if (Either.isLeft(got)) return yield* Effect.dieMessage(`the lease of a new task is held: ${got.left.message}`)
            yield* save(task).pipe(Effect.tapError(() => leases.release(task.id)))
            yield* Ref.update(pending, (map) => new Map(map).set(key, task.id))
            yield* audit({
              time: task.createdAt,
              actor: task.requestedBy,
              action: task.action,
              certificate: task.certificate,
              result: "queued",
              task: task.id
            })
            yield* Queue.offer(queue, task)
            return task
          }),
        get: (id) => Effect.flatMap(records, (r) => r.loadTask(id)),
        finished: Effect.acquireRelease(
          Effect.tap(Queue.unbounded<ServiceRecords.Task>(), (subscriber) =>
            Ref.update(subscribers, (all) => [...all, subscriber])),
          (subscriber) => Ref.update(subscribers, (all) => all.filter((s) => s !== subscriber))
        )
      }
      return service
    })
  )
