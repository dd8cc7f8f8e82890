/**
 * The file system storage's lock (`leases/.lock`) with processes of one host taking turns: a lock
 * that is let go between a process's failed try and its look at the holder was treated as
 * unreadable, so stale, and moved aside; had another process taken it in between, its lock was
 * moved (and, if a third took the free name meanwhile, lost): two holders. Found by the coordination
 * test (three `acme renew` at once on a busy machine renewed one certificate twice).
 */
import { CertificateName, Host, Storage } from "@acme/sdk"
import { FileSystem } from "@effect/platform"
import { NodeFileSystem, NodePath } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as nodeFs from "node:fs"
import * as os from "node:os"
import * as nodePath from "node:path"

const host: Host.Service = { name: "test-host", pid: 4242, isAlive: (pid) => Effect.succeed(pid === 1 || pid === 4242) }

const lockOf = (pid: number) => JSON.stringify({ host: "test-host", pid, id: `holder-${pid}`, at: new Date().toISOString() })

describe("the file storage's lock", () => {
  it.live("a lock let go between a failed try and the look is tried again, never moved aside (another may have taken it)", () =>
    Effect.gen(function*() {
      const root = nodePath.join(nodeFs.mkdtempSync(nodePath.join(os.tmpdir(), "acme-lock-")), "storage")
      const lockFile = nodePath.join(root, "leases", ".lock")
      nodeFs.mkdirSync(nodePath.dirname(lockFile), { recursive: true })
      // a live process of this host (pid 1) holds the lock
      nodeFs.writeFileSync(lockFile, lockOf(1))
      let looked = false
      const movedAside: Array<string> = []
      const fileSystem = Layer.effect(
        FileSystem.FileSystem,
        Effect.map(FileSystem.FileSystem, (real) =>
          FileSystem.FileSystem.of({
            ...real,
            readFileString: (target, encoding) => {
              if (target !== lockFile || looked) return real.readFileString(target, encoding)
              looked = true
              // the holder lets go just before this process looks at it ...
              nodeFs.rmSync(lockFile)
              return real.readFileString(target, encoding)
            },
            rename: (from, to) => {
              // moving the lock aside: had another process taken it after the look, its lock
              if (from === lockFile) movedAside.push(to)
              return real.rename(from, to)
            }
          }))
      ).pipe(Layer.provide(NodeFileSystem.layer))

      const storage = yield* Storage.makeFileSystem(root).pipe(
        Effect.provide(Layer.merge(fileSystem, NodePath.layer)),
        Effect.provideService(Host.Host, host)
      )
      const lease = yield* storage.acquireLease({
        certificate: CertificateName.make("site"),
        holder: { runId: "2026-12-07T12-00-00.000Z-run1", host: "test-host", pid: 4242 },
        ttl: "30 seconds"
      }).pipe(Effect.provideService(Host.Host, host))

      expect(looked).toBe(true)
      expect(movedAside).toEqual([])
      expect(lease.holder.pid).toBe(4242)
      // the lock was let go after the lease was granted
      expect(nodeFs.existsSync(lockFile)).toBe(false)
      nodeFs.rmSync(nodePath.dirname(root), { recursive: true, force: true })
    }))
})
