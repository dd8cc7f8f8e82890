/**
 * Storage in a folder, through @effect/platform's `FileSystem` and `Path` only, assembled from its
 * parts under `internal/fileStorage/`: the layout, the file primitives (atomic writes), live and
 * archive versions, the stale-temp sweep, one module per record kind (certificates, pending keys,
 * accounts, checkpoints), and the lease table with its lock file, which the processes of one host
 * sharing the folder all see.
 *
 * Every file is written to `.<file>.tmp-<random>` in its own folder (created with its final mode),
 * fsynced, renamed over the target, and the folder fsynced (best effort; a new certificate version's
 * folder once, after its last file, before the live link points at it). Temp files a crashed
 * process left behind are removed when the storage is made, once they are stale.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Effect from "effect/Effect"
import { accountRecords } from "./fileStorage/accounts.js"
import { certificateRecords } from "./fileStorage/certificates.js"
import { checkpointRecords } from "./fileStorage/checkpoints.js"
import { makeFiles } from "./fileStorage/files.js"
import { makeLayout } from "./fileStorage/layout.js"
import { pendingKeyRecords } from "./fileStorage/pendingKeys.js"
import { cleanRolloverLeftovers } from "./fileStorage/rolloverLeftovers.js"
import { cleanStaleTemps } from "./fileStorage/staleTemps.js"
import { makeVersions } from "./fileStorage/versions.js"
import { makeLeaseTable } from "./fileStorage/leases.js"
import * as Leases from "./storage/leases.js"
import type { Service } from "./storage/service.js"

/** @internal */
export const make = (root: string): Effect.Effect<Service, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const plain = makeFiles(yield* FileSystem.FileSystem, yield* Path.Path)
    const layout = makeLayout(plain.path, root)
    const certificateLock = yield* Effect.makeSemaphore(1)
    // the temp files a crashed process left behind are swept once, before this process's first
    // write: a command that only reads (`acme status` over 10,000 certificates) lists no folder for it
    const sweep = yield* Effect.cached(cleanStaleTemps(plain, layout))
    const files: typeof plain = {
      ...plain,
      writeAtomic: (file, content, mode) => Effect.zipRight(sweep, plain.writeAtomic(file, content, mode)),
      writeAtomicUnsynced: (file, content, mode) => Effect.zipRight(sweep, plain.writeAtomicUnsynced(file, content, mode)),
      createAtomic: (file, content, mode) => Effect.zipRight(sweep, plain.createAtomic(file, content, mode))
    }
    yield* cleanRolloverLeftovers(files, layout)
    const records = {
      location: root,
      ...certificateRecords(files, layout, makeVersions(files, layout), certificateLock),
      ...pendingKeyRecords(files, layout),
      ...accountRecords(files, layout),
      ...checkpointRecords(files, layout)
    }
    return Leases.make(records, yield* makeLeaseTable(files, layout))
  })
