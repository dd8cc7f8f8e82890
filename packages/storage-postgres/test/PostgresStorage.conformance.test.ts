import { PostgresStorage } from "@acme/storage-postgres"
import { Postgres, Requirement } from "@acme/testing"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it, layer } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import * as Crypto from "node:crypto"
// the suite every Storage passes lives with the Storage contract, in the SDK's tests
import { serviceRecordsConformance } from "../../sdk/test/support/serviceRecordsConformance.js"
import { storageConformance } from "../../sdk/test/support/storageConformance.js"

const encryptionKey = { bytes: Redacted.make(Uint8Array.from(Crypto.randomBytes(32))), source: "the test's key" }

const requirement = Postgres.requirement()

if (requirement._tag === "Fail") {
  it("PostgreSQL is there", () => {
    expect.fail(Requirement.message(requirement))
  })
}

describe.skipIf(requirement._tag !== "Run")(`Postgres storage${Requirement.note(requirement)}`, () => {
  layer(Layer.mergeAll(Postgres.layer(), NodeContext.layer), { timeout: 120_000 })("Postgres storage", (it) =>
    storageConformance(
      it,
      Effect.gen(function*() {
        const postgres = yield* Postgres.Postgres
        const url = yield* postgres.createDatabase
        return yield* PostgresStorage.make({ url, encryptionKey })
      })
    ))

  layer(Layer.mergeAll(Postgres.layer(), NodeContext.layer), { timeout: 120_000 })("Postgres records", (it) =>
    serviceRecordsConformance(
      it,
      Effect.gen(function*() {
        const postgres = yield* Postgres.Postgres
        const url = yield* postgres.createDatabase
        const storage = yield* PostgresStorage.make({ url, encryptionKey })
        return storage.records ?? expect.unreachable("the Postgres storage keeps records")
      })
    ))
})
