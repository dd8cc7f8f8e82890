/**
 * What the CLI tests on Postgres storage share: a storage key for the run (given to `acme` as
 * `ACME_STORAGE_KEY`), the storage opened in the test's own process with it, and the environment of
 * Pebble (challenges answered through challtestsrv), the SDK's protocol client and a Postgres server.
 */
import * as Crypto from "node:crypto"
import { AcmeProtocol } from "@acme/sdk"
import { EncryptionKey, PostgresStorage } from "@acme/storage-postgres"
import { Pebble, PebbleHttpClient, Postgres } from "@acme/testing"
import { NodeContext } from "@effect/platform-node"
import { Effect, Layer, Redacted } from "effect"

/** the storage key of this test file's databases (base64 of 32 random bytes) */
export const keyText = Crypto.randomBytes(32).toString("base64")

/** the storage `acme` wrote to `url`, opened in this process */
export const openStorage = (url: string) =>
  Effect.flatMap(
    Effect.orDie(EncryptionKey.decode(keyText, "the test's key")),
    (encryptionKey) => PostgresStorage.make({ url: Redacted.make(url), encryptionKey, maxConnections: 2 })
  )

export const Env = Layer.unwrapEffect(
  Effect.map(Pebble.Pebble, (pebble) => AcmeProtocol.layer({ directoryUrl: pebble.directoryUrl }))
).pipe(
  Layer.provide(PebbleHttpClient.layer),
  Layer.provideMerge(Pebble.layer({ challengeServers: "external" })),
  Layer.merge(Postgres.layer()),
  Layer.merge(NodeContext.layer)
)
