/**
 * Is the storage usable and private? A file storage's folder is written to (a probe file, created
 * and removed) and its private keys (`privkey.pem`, `*.key`) and the folders holding them are
 * checked for modes that let others in (files 0600, folders 0700). Another storage is read.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import { Storage } from "../../Storage.js"
import * as finding from "./finding.js"
import type { Finding } from "./service.js"

const isKey = (file: string) => file.endsWith("privkey.pem") || file.endsWith(".key")
const octal = (mode: number) => `0${(mode & 0o777).toString(8)}`
/** the most mode problems listed one by one */
const maxListed = 10

/** creates and removes a probe file in `folder` */
const probe = (fs: FileSystem.FileSystem, path: Path.Path, folder: string) =>
  Effect.gen(function*() {
    const suffix = Encoding.encodeHex(globalThis.crypto.getRandomValues(new Uint8Array(6)))
    const file = path.join(folder, `.acme-doctor-${suffix}`)
    yield* Effect.scoped(Effect.gen(function*() {
      const handle = yield* fs.open(file, { flag: "wx", mode: 0o600 })
      yield* handle.writeAll(new TextEncoder().encode("acme doctor\n"))
      yield* handle.sync
    })).pipe(Effect.ensuring(Effect.ignore(fs.remove(file))))
  })

const fileStorage = (root: string): Effect.Effect<ReadonlyArray<Finding>, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const at = { check: "storage" as const, subject: root }
    const exists = yield* fs.exists(root).pipe(Effect.orElseSucceed(() => false))
    let target = root
    while (!(yield* fs.exists(target).pipe(Effect.orElseSucceed(() => false))) && path.dirname(target) !== target) {
      target = path.dirname(target)
    }
    // a file where the storage or one of its folders should be: no user or mode fixes that
    const kind = yield* fs.stat(target).pipe(Effect.map((info) => info.type), Effect.orElseSucceed(() => "Unknown" as const))
    if (kind !== "Directory" && kind !== "Unknown") {
      return [finding.fail(
        at,
        `${target} is ${kind === "File" ? "a file" : "not a folder"}: the storage cannot be ${target === root ? "there" : "made under it"}`,
        `set storage.path to a folder (or move ${target} out of the way)`
      )]
    }
    const written = yield* Effect.either(probe(fs, path, target))
    if (written._tag === "Left") {
      return [finding.fail(
        at,
        `cannot write in ${target}: ${finding.oneLine(written.left.message)}`,
        `run acme as the user who owns ${target}, or give that user the folder (chown, chmod 700)`
      )]
    }
    if (!exists) return [finding.ok(at, `does not exist yet; ${target} is writable, so \`acme renew\` can create it`)]
    const entries = yield* fs.readDirectory(root, { recursive: true }).pipe(Effect.orElseSucceed(() => []))
    const problems: Array<{ readonly path: string; readonly what: string; readonly fix: string }> = []
    const folders = new Set<string>()
    for (const entry of entries.filter(isKey)) {
      const file = path.join(root, entry)
      const info = yield* Effect.option(fs.stat(file))
      if (info._tag === "None" || info.value.type !== "File") continue
      folders.add(path.dirname(file))
      if ((info.value.mode & 0o077) !== 0) {
        problems.push({
          path: file,
          what: `the private key ${file} is open to others (mode ${octal(info.value.mode)})`,
          fix: `chmod 600 ${file}`
        })
      }
    }
    for (const folder of folders) {
      const info = yield* Effect.option(fs.stat(folder))
      if (info._tag === "Some" && (info.value.mode & 0o077) !== 0) {
        problems.push({
          path: folder,
          what: `${folder} holds private keys and is open to others (mode ${octal(info.value.mode)})`,
          fix: `chmod 700 ${folder}`
        })
      }
    }
    if (problems.length === 0) {
      return [finding.ok(at, `writable; ${folders.size === 0 ? "no private keys yet" : "private keys 0600 in 0700 folders"}`)]
    }
    const listed = problems.slice(0, maxListed).map((problem) =>
      finding.fail({ check: "storage", subject: problem.path }, problem.what, problem.fix)
    )
    return problems.length > maxListed
      ? [
        ...listed,
        finding.fail(
          at,
          `and ${problems.length - maxListed} more private keys or folders open to others`,
          `chmod -R go-rwx ${root}`
        )
      ]
      : listed
  })

/** @internal */
export const check = (
  storagePath: string | undefined
): Effect.Effect<ReadonlyArray<Finding>, never, Storage | FileSystem.FileSystem | Path.Path> =>
  storagePath !== undefined ? fileStorage(storagePath) : Effect.gen(function*() {
    const storage = yield* Storage
    const at = { check: "storage" as const, subject: storage.location }
    return yield* storage.listCertificates.pipe(
      Effect.map((names) => [finding.ok(at, `readable (${names.length} certificates); modes are checked for file storage only`)]),
      Effect.catchAll((error) =>
        Effect.succeed([finding.fail(at, `cannot read the storage: ${error.message}`, "check the storage's settings and access rights")])
      )
    )
  })
