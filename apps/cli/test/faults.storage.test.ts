/**
 * Fault suite: the storage folder of `acme renew` turns full or read-only in the middle of a run, for
 * real: the storage is a small tmpfs that is filled up, or a bind mount that is remounted read-only.
 * The process is stopped (SIGSTOP) as soon as it says that finalize started, the file system is
 * changed under it, and it goes on (SIGCONT): its next write fails.
 *
 * What the user sees: exit code 1 and one line, `acme: cannot write <file>: the storage is full
 * (...); free space ...` or `... the storage is not writable (its file system is mounted read-only
 * ...); make the storage folder ... writable ...`, the same as the JSON document's error. What is on
 * disk: the previous certificate, byte for byte, still live, and no temp file. Once the disk has
 * room again, or is writable again, `acme renew` converges.
 *
 * Mounting needs root with CAP_SYS_ADMIN. Without it these tests are skipped, saying why (the same
 * conditions are then still covered at the FileSystem level by packages/sdk/test/faults.storage.test.ts);
 * under CI=true they fail instead (`Requirement` of @acme/testing): CI runs as root and must run them.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Pebble, Requirement } from "@acme/testing"
import { describe, expect, it, layer } from "@effect/vitest"
import { Reporter } from "@acme/sdk"
import { Effect, Schema } from "effect"
import { assertComplete, contents, liveSerial, reportOf, temporaryFiles } from "./support/checks.js"
import { acme, acmeWatched, type Result, temporaryFolder } from "./support/cli.js"

const run = (command: string, args: ReadonlyArray<string>) => execFileSync(command, args, { stdio: "pipe" })

/** Why mounting cannot be tested here, or undefined when it can. */
const cannotMount = ((): string | undefined => {
  if (process.platform !== "linux") return "not Linux"
  const probe = fs.mkdtempSync(path.join(os.tmpdir(), "acme-mount-probe-"))
  try {
    run("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe])
    run("umount", [probe])
    return undefined
  } catch (error) {
    const stderr = error instanceof Error && "stderr" in error ? String(error.stderr).trim() : String(error)
    return `mount -t tmpfs failed (${stderr}): it needs root with CAP_SYS_ADMIN`
  } finally {
    fs.rmSync(probe, { recursive: true, force: true })
  }
})()

const requirement = Requirement.decide({ what: "permission to mount (root with CAP_SYS_ADMIN)", missing: cannotMount })

if (requirement._tag === "Skip") {
  console.warn(
    `faults.storage.test.ts: the tests on mounted storage are skipped: ${cannotMount}; packages/sdk/test/faults.storage.test.ts covers the same conditions at the FileSystem level`
  )
}

if (requirement._tag === "Fail") {
  it("storage can be mounted here", () => {
    expect.fail(Requirement.message(requirement))
  })
}

/** A mount at `target`, undone (lazily, if busy) when the scope closes. */
const mounted = (args: ReadonlyArray<string>, target: string) =>
  Effect.acquireRelease(
    Effect.sync(() => run("mount", [...args, target])),
    () =>
      Effect.sync(() => {
        try {
          run("umount", [target])
        } catch {
          run("umount", ["-l", target])
        }
      })
  )

const fixture = (pebble: Pebble.Service, name: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const folder = temporaryFolder("acme-storage-faults-")
      fs.writeFileSync(path.join(folder.path, "ca.pem"), pebble.caBundle)
      fs.writeFileSync(
        path.join(folder.path, "acme.yaml"),
        JSON.stringify({
          ca: { directory: pebble.directoryUrl, trust: ["./ca.pem"] },
          account: { email: "storage@example.test" },
          storage: { path: "./storage" },
          certificates: [{
            name,
            domains: [`${name}.storage.example.test`],
            challenge: { type: "dns-01", provider: "challtestsrv", url: pebble.challtestsrvUrl }
          }]
        })
      )
      const storage = path.join(folder.path, "storage")
      fs.mkdirSync(storage)
      return { ...folder, storage, domain: `${name}.storage.example.test` }
    }),
    (folder) => Effect.sync(() => folder.remove())
  )

/** `acme renew --force --json`, stopped when finalize starts while `change` runs, then let go on. */
const renewChangedAtFinalize = (cwd: string, change: () => void): Effect.Effect<Result & { changed: boolean }> =>
  Effect.promise(async () => {
    let changed = false
    const result = await acmeWatched(["renew", "--force", "--json"], { cwd }, (line, child) => {
      if (changed || !line.endsWith(": stage finalize started")) return
      changed = true
      child.kill("SIGSTOP")
      try {
        change()
      } finally {
        child.kill("SIGCONT")
      }
    })
    return { ...result, changed }
  })

const ErrorDocument = Schema.Struct({
  error: Schema.Struct({ type: Schema.String, message: Schema.String, exitCode: Schema.Number })
})

/**
 * The checks on what the user saw and what is on disk after the failed run. The storage error either
 * ends the run (it could not save its state: the JSON document is the error), or, when the failed
 * certificate's clean-up freed enough room to save it, is the certificate's reason in the report.
 */
const expectFailedCleanly = (
  result: Result & { changed: boolean },
  storage: string,
  name: string,
  before: Record<string, string>,
  message: RegExp
) => {
  expect(result.changed).toBe(true)
  expect(result.code, result.stderr).toBe(1)
  const last = result.stderrLines.at(-1) ?? ""
  const document = Schema.decodeUnknownSync(Schema.parseJson(Schema.Union(ErrorDocument, Reporter.RunReport)))(
    result.stdout
  )
  if ("error" in document) {
    expect(document.error.type).toBe("StorageError")
    expect(document.error.message).toMatch(message)
    expect(last).toBe(`acme: ${document.error.message}`)
    expect(document.error.exitCode).toBe(1)
  } else {
    const certificate = document.certificates[0]
    expect(certificate?.action).toBe("failed")
    expect(certificate?.error?.type).toBe("StorageError")
    expect(certificate?.reason).toMatch(message)
    expect(result.stderrLines.filter((line) => line.endsWith(` ${name}: failed: ${certificate?.reason}`)).length).toBe(1)
    expect(last).toBe(`acme: 1 of 1 certificate failed (${name}); the report says why`)
  }
  // the previous certificate is live, byte for byte; nothing half-written anywhere
  const after = contents(storage)
  for (const [file, bytes] of Object.entries(before)) expect(after[file], file).toBe(bytes)
  assertComplete(storage)
  expect(temporaryFiles(storage)).toEqual([])
}

/** After the condition is gone: the next `acme renew` converges. */
const expectRecovers = (cwd: string, storage: string, name: string, domain: string) =>
  Effect.gen(function*() {
    const pebble = yield* Pebble.Pebble
    const again = yield* Effect.promise(() => acme(["renew", "--json"], { cwd }))
    expect(again.code, again.stderr).toBe(0)
    expect(["renewed", "skipped"]).toContain(reportOf(again).certificates[0]?.action)
    assertComplete(storage)
    expect((yield* pebble.certificateStatus(liveSerial(storage, name, domain))).status).toBe("Valid")
  })

describe.skipIf(requirement._tag !== "Run")(`mounted storage${Requirement.note(requirement)}`, () => {
  layer(Pebble.layer({ challengeServers: "external" }), { excludeTestServices: true, timeout: 90_000 })(
    "storage that turns full or read-only during acme renew",
    (it) => {
      it.scoped("a tmpfs that fills up: exit 1, `the storage is full ...; free space ...`, the old files intact", () =>
        Effect.gen(function*() {
          const pebble = yield* Pebble.Pebble
          const folder = yield* fixture(pebble, "full")
          yield* mounted(["-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs"], folder.storage)
          const first = yield* Effect.promise(() => acme(["renew", "--json"], { cwd: folder.path }))
          expect(first.code, first.stderr).toBe(0)
          const before = contents(folder.storage)
          const serial = liveSerial(folder.storage, "full", folder.domain)

          const filler = path.join(folder.storage, "filler")
          const result = yield* renewChangedAtFinalize(folder.path, () => {
            try {
              fs.writeFileSync(filler, Buffer.alloc(8 * 1024 * 1024, 1))
            } catch {
              // ENOSPC: the disk is full now, which is the point
            }
          })
          expectFailedCleanly(
            result,
            folder.storage,
            "full",
            before,
            /^cannot write \S+: the storage is full \(no space left on the device: ENOSPC: .*\); free space on the file system of the storage folder \(storage\.path\), then run acme again$/
          )
          expect(liveSerial(folder.storage, "full", folder.domain)).toBe(serial)

          fs.rmSync(filler)
          yield* expectRecovers(folder.path, folder.storage, "full", folder.domain)
        }))

      it.scoped("a bind mount remounted read-only: exit 1, `the storage is not writable ...`, the old files intact", () =>
        Effect.gen(function*() {
          const pebble = yield* Pebble.Pebble
          const folder = yield* fixture(pebble, "readonly")
          const real = path.join(folder.path, "real-storage")
          fs.mkdirSync(real)
          yield* mounted(["--bind", real], folder.storage)
          const first = yield* Effect.promise(() => acme(["renew", "--json"], { cwd: folder.path }))
          expect(first.code, first.stderr).toBe(0)
          const before = contents(folder.storage)
          const serial = liveSerial(folder.storage, "readonly", folder.domain)

          const result = yield* renewChangedAtFinalize(folder.path, () => {
            run("mount", ["-o", "remount,ro,bind", folder.storage])
          })
          expectFailedCleanly(
            result,
            folder.storage,
            "readonly",
            before,
            /^cannot write \S+: the storage is not writable \(its file system is mounted read-only: EROFS: .*\); make the storage folder \(storage\.path\) writable for the user running acme, and remount its file system read-write if it is mounted read-only$/
          )
          expect(liveSerial(folder.storage, "readonly", folder.domain)).toBe(serial)

          run("mount", ["-o", "remount,rw,bind", folder.storage])
          yield* expectRecovers(folder.path, folder.storage, "readonly", folder.domain)
        }))
    }
  )
})
