/**
 * Two `acme serve` processes on one Postgres storage (`storage.type: postgres`), against Pebble and a
 * throwaway Postgres server (`@acme/testing`'s `Postgres`):
 *
 * - both start with every certificate due and queue their scheduled renewal at once: Pebble receives
 *   one order per certificate, each reported `renewed` by exactly one of the two tasks (the other
 *   one skips it: being renewed by the other run, or renewed meanwhile);
 * - an API key made with `acme apikey create` against the Postgres configuration works on both;
 * - a renewal POSTed to one server is a task the other one answers for (`GET /v1/tasks/{id}`), and
 *   the same renewal POSTed to the other one meanwhile is a 409;
 * - `acme audit --json` lists the entries of both servers' tasks;
 * - a server paused (SIGSTOP) in the middle of a task keeps it while its lease is live: a server
 *   started meanwhile leaves the task alone, takes it over once the lease expired and finishes it,
 *   and the paused one, continued, learns it lost the task and leaves its record to the new holder.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import type { ServiceRecords } from "@acme/sdk"
import { Pebble, Postgres, Requirement } from "@acme/testing"
import { describe, expect, it, layer } from "@effect/vitest"
import { Effect, Option } from "effect"
import { ordersByDomain } from "./support/checks.js"
import { Env, keyText, openStorage } from "./support/postgres.js"
import { acme, temporaryFolder } from "./support/cli.js"
import { poll } from "./support/poll.js"
import { serve, type Served } from "./support/serve.js"

const names = ["alpha", "beta", "gamma"] as const
const domain = (name: string) => `${name}.serve.pg.example.test`

const call = (base: string, method: string, route: string, key: string, body?: unknown) =>
  Effect.promise(async () => {
    const response = await fetch(`${base}${route}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    const text = await response.text()
    return { status: response.status, text, json: text.length > 0 ? JSON.parse(text) as unknown : undefined }
  })

/** a configuration on a new database of the Postgres server, in a temporary folder */
const setup = (label: string, renewal: Record<string, unknown> = {}) =>
  Effect.gen(function*() {
    const pebble = yield* Pebble.Pebble
    const postgres = yield* Postgres.Postgres
    const url = yield* postgres.createDatabase
    const folder = yield* Effect.acquireRelease(
      Effect.sync(() => temporaryFolder(`acme-serve-pg-${label}-`)),
      (f) => Effect.sync(f.remove)
    )
    fs.writeFileSync(path.join(folder.path, "ca.pem"), pebble.caBundle)
    const config = path.join(folder.path, "acme.yaml")
    fs.writeFileSync(
      config,
      JSON.stringify({
        ca: { directory: pebble.directoryUrl, trust: ["./ca.pem"] },
        account: { email: "serve@example.test" },
        storage: { type: "postgres", url: { env: "ACME_DATABASE_URL" }, encryptionKey: { env: "ACME_STORAGE_KEY" } },
        server: { listen: "127.0.0.1:0", interval: "12 hours" },
        renewal,
        certificates: names.map((name) => ({
          name,
          domains: [domain(name)],
          challenge: { type: "dns-01", provider: "challtestsrv", url: pebble.challtestsrvUrl }
        }))
      })
    )
    const options = { cwd: folder.path, env: { ACME_DATABASE_URL: url, ACME_STORAGE_KEY: keyText } }
    return { config, options, url }
  })

/** servers started now, SIGKILLed (and continued first, in case one is stopped) when the scope closes */
const startServers = (count: number, config: string, options: { readonly cwd: string; readonly env: Record<string, string> }) =>
  Effect.acquireRelease(
    Effect.promise(() => Promise.all(Array.from({ length: count }, () => serve(["--config", config], options)))),
    (started) =>
      Effect.promise(() =>
        Promise.all(started.map((server) => {
          server.child.kill("SIGCONT")
          return server.stop("SIGKILL")
        }))
      )
  )

const sleep = (millis: number) => Effect.promise(() => new Promise((resolve) => setTimeout(resolve, millis)))

const isDone = (task: ServiceRecords.Task) => task.status === "succeeded" || task.status === "failed"

const requirement = Postgres.requirement()

if (requirement._tag === "Fail") {
  it("PostgreSQL is there", () => {
    expect.fail(Requirement.message(requirement))
  })
}

describe.skipIf(requirement._tag !== "Run")(`acme serve on Postgres${Requirement.note(requirement)}`, () => {
  layer(Env, { excludeTestServices: true, timeout: 110_000 })("two acme serve on one Postgres storage", (it) => {
    it.scoped("renew each due certificate once, share API keys, tasks and the audit log", () =>
      Effect.gen(function*() {
        const { config, options, url } = yield* setup("shared")
        // a key made by the CLI, in the database
        const created = yield* Effect.promise(() =>
          acme(["apikey", "create", "--config", config, "--name", "deployer", "--scope", "write", "--json"], options)
        )
        expect(created.code, created.stderr).toBe(0)
        const key = JSON.parse(created.stdout) as { readonly id: string; readonly key: string }

        // two servers, started together: both renew everything that is due at start
        const [a, b] = (yield* startServers(2, config, options)) as [Served, Served]
        const storage = yield* openStorage(url)
        const records = storage.records ?? expect.unreachable("the Postgres storage keeps records")

        const scheduled = yield* poll("both scheduled renewals to finish", Effect.map(records.listTasks, (tasks) => {
          const runs = tasks.filter((task) => task.requestedBy === "scheduler")
          return runs.length === 2 && runs.every(isDone) ? runs : undefined
        }))
        for (const task of scheduled) expect(task.status, JSON.stringify(task.error)).toBe("succeeded")
        // each server ran its own, under its own holder
        expect(new Set(scheduled.map((task) => task.holder?.pid))).toEqual(new Set([a.child.pid, b.child.pid]))
        // every certificate renewed by exactly one of them, and ordered once
        for (const name of names) {
          const outcomes = scheduled.map((task) => task.result?.certificates.find((c) => c.name === name)?.action)
          expect(outcomes.filter((action) => action === "renewed"), `${name}: ${outcomes.join(", ")}`).toHaveLength(1)
        }
        const orders = yield* ordersByDomain(storage)
        for (const name of names) expect(orders.get(domain(name)), name).toBe(1)

        // the key works on both
        for (const server of [a, b]) {
          const listed = yield* call(server.url, "GET", "/v1/certificates", key.key)
          expect(listed.status, listed.text).toBe(200)
          const certificates = (listed.json as { certificates: ReadonlyArray<{ name: string; serial?: string }> })
            .certificates
          expect(certificates.map((c) => c.name).sort()).toEqual([...names].sort())
          expect(certificates.every((c) => c.serial !== undefined)).toBe(true)
        }

        // a renewal POSTed to A, followed on B
        const accepted = yield* call(a.url, "POST", "/v1/certificates/alpha/renew", key.key, { force: true })
        expect(accepted.status, accepted.text).toBe(202)
        const id = (accepted.json as { task: { id: string } }).task.id
        // the same renewal asked of B while A's task is open: B knows it
        const again = yield* call(b.url, "POST", "/v1/certificates/alpha/renew", key.key, { force: true })
        expect(again.status, again.text).toBe(409)
        expect((again.json as { detail: string }).detail).toContain(id)
        const done = yield* poll(`task ${id} on B`, Effect.gen(function*() {
          const answer = yield* call(b.url, "GET", `/v1/tasks/${id}`, key.key)
          expect(answer.status, answer.text).toBe(200)
          const task = (answer.json as { task: ServiceRecords.Task }).task
          expect(task.id).toBe(id)
          return isDone(task) ? task : undefined
        }))
        expect(done.status, JSON.stringify(done.error)).toBe("succeeded")
        expect(done.holder?.pid).toBe(a.child.pid)
        expect((yield* ordersByDomain(storage)).get(domain("alpha"))).toBe(2)

        // the audit log has both servers' entries, and the CLI's
        const audited = yield* Effect.promise(() => acme(["audit", "--config", config, "--json"], options))
        expect(audited.code, audited.stderr).toBe(0)
        const entries = (JSON.parse(audited.stdout) as { entries: ReadonlyArray<ServiceRecords.AuditEntry> }).entries
        expect(entries).toContainEqual(expect.objectContaining({ actor: "cli", action: "apikey.create", result: "created" }))
        for (const task of scheduled) {
          expect(entries.filter((entry) => entry.task === task.id && entry.actor === "scheduler").length, task.id)
            .toBeGreaterThanOrEqual(names.length)
        }
        expect(entries).toContainEqual(expect.objectContaining({ actor: key.id, task: id, result: "queued" }))
        expect(entries).toContainEqual(
          expect.objectContaining({ actor: key.id, task: id, certificate: "alpha", result: "renewed" })
        )
      }))

    it.scoped("a task of a paused server is left to it until its lease expires, then taken over; its record stays the new holder's", () =>
      Effect.gen(function*() {
        const { config, options, url } = yield* setup("paused", { leaseTtl: "10 seconds" })
        const [a] = (yield* startServers(1, config, options)) as [Served]
        // A's scheduled renewal is under way: pause A (alive, so its leases end only at their expiry)
        const underWay = /: stage (order|present) started$/
        if (!a.lines.some((line) => underWay.test(line))) yield* Effect.promise(() => a.waitForLine(underWay, 30_000))
        a.child.kill("SIGSTOP")
        const storage = yield* openStorage(url)
        const records = storage.records ?? expect.unreachable("the Postgres storage keeps records")
        const [paused] = (yield* records.listTasks).filter((task) => task.requestedBy === "scheduler")
        expect(paused?.status).toBe("running")
        expect(paused?.holder?.pid).toBe(a.child.pid)
        const id = paused?.id ?? expect.unreachable("A's scheduled task")

        const [b] = (yield* startServers(1, config, options)) as [Served]
        yield* sleep(500)
        // B started while A's lease on the task is live: the task is still A's
        const early = Option.getOrThrow(yield* records.loadTask(id))
        expect(early.holder?.pid).toBe(a.child.pid)
        expect(b.lines.some((line) => line.includes(`task ${id}`))).toBe(false)

        // once the lease expired (10 s after A's last renewal), B takes the task over and runs it
        const taken = yield* poll("B to take the task over and finish it", Effect.map(records.loadTask(id), (task) =>
          Option.isSome(task) && task.value.holder?.pid === b.child.pid && isDone(task.value) ? task.value : undefined), 45_000)
        expect(taken.status, JSON.stringify(taken.error)).toBe("succeeded")
        expect(b.lines.some((line) => line.includes(`task ${id} (renew all) was running under server`) && line.includes(`pid ${a.child.pid}`)))
          .toBe(true)

        // A goes on: it learns that the task is another server's and leaves its record alone
        a.child.kill("SIGCONT")
        yield* Effect.promise(() => a.waitForLine(new RegExp(`task ${id} (is another server's now|ended here after another server took it over)`), 30_000))
        yield* sleep(1_000)
        const after = Option.getOrThrow(yield* records.loadTask(id))
        expect(after.holder?.pid).toBe(b.child.pid)
        expect(after.status).toBe("succeeded")
        expect(after.finishedAt).toBe(taken.finishedAt)
      }))
  })
})
