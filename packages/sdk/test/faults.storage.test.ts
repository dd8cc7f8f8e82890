/**
 * Fault suite: storage that turns full or read-only in the middle of a run, at the file system
 * level. Node's FileSystem is wrapped so that, from the first write to a chosen path on, writes fail
 * the way the kernel fails them:
 *
 * - `ENOSPC` stands for a full disk (a small tmpfs filled up): files can be created but not written,
 *   renames and removals still work;
 * - `EROFS` stands for a file system remounted read-only (`mount -o remount,ro`): nothing can be
 *   created, written, renamed or removed.
 *
 * The real conditions (a tmpfs that fills up, a bind mount remounted read-only) are exercised with
 * the built CLI in apps/cli/test/faults.storage.test.ts where the machine allows mounting; this file
 * runs everywhere. Each case asserts the typed StorageError with its one-line message, the previous
 * certificate's files byte for byte, no temp file, and that the next run, once the condition is
 * gone, converges.
 */
import { FaultProxy } from "@acme/testing"
import { Storage } from "@acme/sdk"
import { Error as PlatformError, FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { expect, layer } from "@effect/vitest"
import { Effect, Exit, Layer, TestClock, TestContext } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import {
  contents,
  expectLiveValid,
  proxiedPipeline,
  renewAt,
  storageFolder,
  temporaryFiles
} from "./support/faults.js"

type Condition = "ENOSPC" | "EROFS"

const texts: Record<Condition, string> = { ENOSPC: "no space left on device", EROFS: "read-only file system" }

/** A SystemError as @effect/platform-node makes one from a Node errno exception. */
const systemError = (code: Condition, method: string, target: string) => {
  const message = `${code}: ${texts[code]}, ${method} '${target}'`
  return new PlatformError.SystemError({
    reason: "Unknown",
    module: "FileSystem",
    method,
    pathOrDescriptor: target,
    description: message,
    cause: Object.assign(new Error(message), { code, path: target })
  })
}

const isWrite = (options: FileSystem.OpenFileOptions | undefined) => /[wa+]/.test(options?.flag ?? "r")

/**
 * Node's FileSystem, until a write to a path matching `trigger`: from then on it behaves like a full
 * (ENOSPC) or read-only (EROFS) file system. `tripped` says whether it happened.
 */
const failingFileSystem = (condition: Condition, trigger: RegExp) => {
  let tripped = false
  const trip = (target: string) => {
    if (!tripped && trigger.test(target)) tripped = true
    return tripped
  }
  const layer = Layer.effect(
    FileSystem.FileSystem,
    Effect.gen(function*() {
      const real = yield* FileSystem.FileSystem
      const readOnly = <A>(method: string, target: string, effect: Effect.Effect<A, PlatformError.PlatformError>) =>
        condition === "EROFS" && trip(target) ? Effect.fail(systemError("EROFS", method, target)) : effect
      return FileSystem.FileSystem.of({
        ...real,
        open: (target, options) => {
          if (!isWrite(options) || !trip(target)) return real.open(target, options)
          if (condition === "EROFS") return Effect.fail(systemError("EROFS", "open", target))
          // a full disk: the file is created, its data does not fit
          return Effect.map(real.open(target, options), (file) => ({
            ...file,
            write: () => Effect.fail(systemError("ENOSPC", "write", target)),
            writeAll: () => Effect.fail(systemError("ENOSPC", "write", target))
          }))
        },
        writeFile: (target, data, options) =>
          trip(target) ? Effect.fail(systemError(condition, "writeFile", target)) : real.writeFile(target, data, options),
        makeDirectory: (target, options) =>
          Effect.flatMap(real.exists(target), (exists) =>
            exists || !trip(target)
              ? real.makeDirectory(target, options)
              : Effect.fail(systemError(condition, "mkdir", target))),
        symlink: (from, to) =>
          trip(to) ? Effect.fail(systemError(condition, "symlink", to)) : real.symlink(from, to),
        rename: (from, to) => readOnly("rename", to, real.rename(from, to)),
        remove: (target, options) => readOnly("rm", target, real.remove(target, options))
      })
    })
  ).pipe(Layer.provide(NodeFileSystem.layer))
  return { layer, tripped: () => tripped }
}

const moments = [
  { moment: "the first checkpoint", trigger: /\/runs\/\.?[^/]*$/ },
  { moment: "the new key before finalize", trigger: /\/pending\/\.?[^/]*$/ },
  { moment: "the new chain.pem in store", trigger: /\/archive\/[^/]+\/\d+\/\.chain\.pem\.tmp-/ },
  { moment: "the switch of live/", trigger: /\/live\/\.[^/]+\.tmp-/ }
]

const cases = (["ENOSPC", "EROFS"] as const).flatMap((condition) => moments.map((m) => ({ condition, ...m })))

layer(proxiedPipeline(), { excludeTestServices: true, timeout: 60_000 })("storage that turns full or read-only", (it) => {
  it.scoped.each(cases)("$condition from $moment on: a one-line StorageError, the old files intact", (c) =>
    Effect.gen(function*() {
      const proxy = yield* FaultProxy.FaultProxy
      yield* proxy.clear
      const root = yield* storageFolder
      const name = `s${cases.indexOf(c)}`
      const domain = `${name}.storage.example.test`
      const certificates = [{ name, domains: [domain], challenge: "dns-01" as const }]
      // a real date (run ids sort by it) that moves on between runs
      yield* TestClock.setTime(Date.now())
      const first = yield* renewAt(root, certificates)
      expect(first.certificates[0]?.action).toBe("renewed")
      const serial = expectLiveValid(root, name, domain)
      const before = contents(root)

      yield* TestClock.adjust("1 minute")
      const broken = failingFileSystem(c.condition, c.trigger)
      const exit = yield* Effect.exit(renewAt(root, certificates, { force: true, fileSystem: broken.layer }))
      expect(broken.tripped()).toBe(true)
      // the run cannot save its state any more: it stops with the storage's error
      expect(Exit.isFailure(exit)).toBe(true)
      const error = Exit.isFailure(exit) ? exit.cause : undefined
      const failure = error !== undefined && error._tag === "Fail" && error.error._tag === "StorageError"
        ? error.error
        : undefined
      expect(failure).toBeInstanceOf(Storage.StorageError)
      expect(failure?.reason).toBe(c.condition === "ENOSPC" ? "Full" : "ReadOnly")
      expect(failure?.message).not.toContain("\n")
      expect(failure?.message).toMatch(
        c.condition === "ENOSPC"
          ? /^cannot write \S+: the storage is full \(no space left on the device: ENOSPC: .*\); free space on the file system of the storage folder \(storage\.path\), then run acme again$/
          : /^cannot write \S+: the storage is not writable \(its file system is mounted read-only: EROFS: .*\); make the storage folder \(storage\.path\) writable .*remount its file system read-write/
      )
      expect(failure?.path.startsWith(root)).toBe(true)

      // on disk: the previous certificate is live, every file of it as it was
      expect(expectLiveValid(root, name, domain)).toBe(serial)
      const after = contents(root)
      for (const [file, bytes] of Object.entries(before)) expect(after[file], file).toBe(bytes)
      const added = Object.keys(after).filter((file) => !(file in before))
      // a full disk lets the half-made version go; a read-only one keeps it (never live), and the
      // next save removes it
      if (c.condition === "ENOSPC") expect(added).toEqual([])
      else for (const file of added) expect(file).toMatch(new RegExp(`^archive/${name}/2/`))
      expect(fs.readlinkSync(path.join(root, "live", name))).toBe(`../archive/${name}/1`)
      expect(temporaryFiles(root)).toEqual([])

      // once the disk has room again (or is writable again), the next run converges
      yield* TestClock.adjust("1 minute")
      // (on a full disk the failed run removed its pending key but could not record that: the
      // resumed run finds the key gone and orders a new certificate in the same run)
      const recovered = yield* renewAt(root, certificates)
      expect(["renewed", "skipped"]).toContain(recovered.certificates[0]?.action)
      expectLiveValid(root, name, domain)
      expect(temporaryFiles(root)).toEqual([])
    }).pipe(Effect.provide(TestContext.TestContext)))
})
