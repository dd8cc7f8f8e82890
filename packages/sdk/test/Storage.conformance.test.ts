import { Storage } from "@acme/sdk"
import { FileSystem, Path } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { storageConformance } from "./support/storageConformance.js"

layer(Layer.empty)("memory storage", (it) => storageConformance(it, Storage.makeMemory))

// leases as records under leases/, behind the storage's lock file (shared by the processes of one host)
layer(NodeContext.layer)("file system storage", (it) =>
  storageConformance(
    it,
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const root = path.join(yield* fs.makeTempDirectoryScoped({ prefix: "acme-conformance-" }), "storage")
      return yield* Storage.makeFileSystem(root)
    })
  ))
