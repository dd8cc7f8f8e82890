import { Postgres, Requirement } from "@acme/testing"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Scope } from "effect"
import * as Fs from "node:fs"
import * as Net from "node:net"

const isRunning = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** whether something accepts TCP connections on the port */
const accepts = (port: number) =>
  Effect.async<boolean>((resume) => {
    const socket = Net.connect({ host: "127.0.0.1", port })
    socket.once("connect", () => {
      socket.destroy()
      resume(Effect.succeed(true))
    })
    socket.once("error", () => resume(Effect.succeed(false)))
  })

const requirement = Postgres.requirement()

if (requirement._tag === "Fail") {
  it("PostgreSQL is there", () => {
    expect.fail(Requirement.message(requirement))
  })
}

describe("Postgres", () => {
  it("requirement: runs where initdb is found, else names what is missing (skipped locally, failed under CI)", () => {
    const missing = Postgres.requirement({ binDir: "/nonexistent/bin" })
    expect(missing).toMatchObject({
      what: "PostgreSQL (scripts/setup.sh installs it)",
      reason: "no initdb in /nonexistent/bin; install it with: apt-get install -y postgresql"
    })
    expect(missing._tag).toBe(Requirement.isCI() ? "Fail" : "Skip")
  })

  it.live.skipIf(requirement._tag !== "Run")("runs a server on a loopback port as a user that is not root, gives fresh databases, and stops", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const postgres = yield* Postgres.make().pipe(Scope.extend(scope))
      expect(postgres.url).toBe(`postgres://postgres@127.0.0.1:${postgres.port}/postgres`)
      expect(isRunning(postgres.pid)).toBe(true)

      // the server process is never root (PostgreSQL refuses it; the harness drops to another user)
      const status = Fs.readFileSync(`/proc/${postgres.pid}/status`, "utf8")
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1])
      expect(uid).not.toBe(0)
      expect(uid).toBe(process.getuid?.() === 0 ? Fs.statSync(postgres.tempDirectory).uid : process.getuid?.())
      expect(yield* postgres.psql("SHOW listen_addresses")).toBe("127.0.0.1")

      const first = yield* postgres.createDatabase
      const second = yield* postgres.createDatabase
      expect(first).not.toBe(second)
      const database = first.slice(first.lastIndexOf("/") + 1)
      yield* postgres.psql("CREATE TABLE t (n integer); INSERT INTO t VALUES (41), (1)", database)
      expect(yield* postgres.psql("SELECT sum(n) FROM t", database)).toBe("42")
      // a fresh database has none of the other's tables
      const error = yield* Effect.flip(postgres.psql("SELECT * FROM t", second.slice(second.lastIndexOf("/") + 1)))
      expect(error.reason).toBe("Query")
      expect(error.message).toMatch(/relation "t" does not exist/)

      yield* Scope.close(scope, Exit.void)
      expect(isRunning(postgres.pid)).toBe(false)
      expect(yield* accepts(postgres.port)).toBe(false)
      expect(Fs.existsSync(postgres.tempDirectory)).toBe(false)
    }), 90_000)

  it.effect("says how to install PostgreSQL when it is missing", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.scoped(Postgres.make({ binDir: "/nonexistent/bin" })))
      expect(error.reason).toBe("NotInstalled")
      expect(error.message).toBe(
        "PostgreSQL is not installed (no initdb in /nonexistent/bin); install it with: apt-get install -y postgresql (or set POSTGRES_BIN_DIR)"
      )
    }))
})
