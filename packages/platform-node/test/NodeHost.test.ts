import { spawn } from "node:child_process"
import * as NodeOs from "node:os"
import { Host, type Lease } from "@acme/sdk"
import { NodeHost } from "@acme/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { DateTime, Effect } from "effect"

/** a child process that has exited (and been reaped): its pid names no process */
const exitedPid = Effect.promise(() =>
  new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" })
    child.on("error", reject)
    child.on("close", () => resolve(child.pid ?? 0))
  })
)

const lease = (pid: number, host = NodeOs.hostname()): Lease.Lease => ({
  certificate: "site",
  holder: { runId: "2026-12-01T12-00-00.000Z-run1", host, pid },
  token: 1,
  expiresAt: DateTime.unsafeMake("2026-12-01T12:02:00.000Z")
})

describe("NodeHost", () => {
  it.effect("names this host and process; tells a running process from one that has exited", () =>
    Effect.gen(function*() {
      const host = yield* Effect.provide(Host.Host, NodeHost.layer)
      expect(host.name).toBe(NodeOs.hostname())
      expect(host.pid).toBe(process.pid)
      expect(yield* NodeHost.isAlive(process.pid)).toBe(true)
      // pid 1 exists; when it is another user's, kill(1, 0) answers EPERM, which still means alive
      expect(yield* NodeHost.isAlive(1)).toBe(true)
      expect(yield* NodeHost.isAlive(yield* exitedPid)).toBe(false)
    }))

  it.effect("a lease of a process of this host that has exited is taken over at once; of a live one or another host's, not", () =>
    Effect.gen(function*() {
      const gone = yield* exitedPid
      const takeOver = (current: Lease.Lease) => Effect.provide(Host.takeOverGone(current), NodeHost.layer)
      expect(yield* takeOver(lease(gone))).toBe(true)
      expect(yield* takeOver(lease(process.ppid))).toBe(false)
      // this process's own leases are never "gone"
      expect(yield* takeOver(lease(process.pid))).toBe(false)
      // a pid of another host says nothing about that host's processes
      expect(yield* takeOver(lease(gone, "another-host"))).toBe(false)
      // without NodeHost, every holder counts as alive: leases end at expiry only
      expect(yield* Host.takeOverGone(lease(gone))).toBe(false)
    }))
})
