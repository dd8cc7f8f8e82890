import { Pebble } from "@acme/testing"
import { AcmeError, AcmeProtocol } from "@acme/sdk"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { NodeAcmeHttpClient } from "@acme/platform-node"

layer(Pebble.layer(), { excludeTestServices: true })("NodeAcmeHttpClient", (it) => {
  it.effect("reaches a CA whose TLS root is given as extra trust", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const directory = yield* Effect.flatMap(AcmeProtocol.make({ directoryUrl: pebble.directoryUrl }), (acme) => acme.directory)
        .pipe(Effect.provide(NodeAcmeHttpClient.layer({ trust: [pebble.caBundle] })))
      expect(directory.newNonce).toMatch(/^https:\/\/127\.0\.0\.1:/)
    }))

  it.effect("refuses the same CA without it, with a TransportError that names the TLS failure", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const error = yield* Effect.flip(
        Effect.flatMap(AcmeProtocol.make({ directoryUrl: pebble.directoryUrl }), (acme) => acme.directory)
      ).pipe(Effect.provide(NodeAcmeHttpClient.layer()))
      expect(error._tag).toBe("TransportError")
      expect(error.message).toMatch(/certificate/i)
      expect(error.message).toContain("ca.trust")
      // trying again cannot help: final, with what to do
      expect(error._tag === "TransportError" && error.reason).toBe("Trust")
      expect(AcmeError.isRetryable(error)).toBe(false)
      expect(error.message).toMatch(/is not trusted .*add its root certificate to ca\.trust/)
    }))
})
