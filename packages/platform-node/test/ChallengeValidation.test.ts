/**
 * Pebble validates challenges against the Node responders themselves (challengeServers: "external"):
 * http-01 on 127.0.0.1:httpPort, tls-alpn-01 on 127.0.0.1:tlsPort.
 */
import { NodeHttp01Responder, NodeTlsAlpn01Responder } from "@acme/platform-node"
import { AccountKey, AcmeProtocol, Authorization, ChallengeResponse, ChallengeSolver, Identifier } from "@acme/sdk"
import { Pebble, PebbleHttpClient } from "@acme/testing"
import { NodeContext } from "@effect/platform-node"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"

const PebbleExternal = PebbleHttpClient.layer.pipe(Layer.provideMerge(Pebble.layer({ challengeServers: "external" })))

const Responders = Layer.mergeAll(NodeHttp01Responder.layer, NodeTlsAlpn01Responder.layer).pipe(
  Layer.provide(NodeContext.layer)
)

/** a new account and an order for one identifier; answers its challenge of `type` through our responders */
const validate = (
  type: "http-01" | "tls-alpn-01",
  identifier: Identifier.Identifier,
  config: (pebble: Pebble.Pebble["Type"]) => ChallengeSolver.ChallengeTask["config"]
) =>
  Effect.gen(function*() {
    const pebble = yield* Pebble.Pebble
    const acme = yield* AcmeProtocol.make({ directoryUrl: pebble.directoryUrl, pollInterval: "50 millis" })
    const directory = yield* acme.directory
    const key = yield* AccountKey.generate("ES256")
    const created = yield* acme.newAccount({ directory, nonce: yield* acme.newNonce(directory), key, termsOfServiceAgreed: true })
    const account = { key, url: created.value.url }
    const ordered = yield* acme.newOrder({ directory, nonce: created.nonce, account, order: { identifiers: [identifier] } })
    const url = ordered.value.authorizations[0] ?? ""
    const authorization = yield* acme.getAuthorization({ nonce: ordered.nonce, account, url })
    const challenge = yield* Authorization.selectChallenge(authorization.value, type)
    const token = challenge.token ?? ""
    const task: ChallengeSolver.ChallengeTask = {
      certificate: "example",
      identifier,
      type,
      token,
      keyAuthorization: ChallengeResponse.keyAuthorization(token, key),
      config: config(pebble)
    }
    const responder = type === "http-01"
      ? yield* ChallengeSolver.Http01Responder
      : yield* ChallengeSolver.TlsAlpn01Responder
    yield* responder.present(task)
    const responded = yield* acme.respondToChallenge({ nonce: authorization.nonce, account, url: challenge.url })
    const done = yield* acme.pollAuthorization({ nonce: responded.nonce, account, url, timeout: "30 seconds" }).pipe(
      Effect.ensuring(responder.cleanup(task))
    )
    return done.value
  }).pipe(Effect.provide(Responders))

layer(PebbleExternal, { excludeTestServices: true })("Pebble validates the Node responders", (it) => {
  it.effect("http-01 through the standalone server", () =>
    Effect.gen(function*() {
      const authorization = yield* validate(
        "http-01",
        Identifier.dns("http01.example.test"),
        (pebble) => ({ type: "http-01", port: pebble.httpPort, address: "127.0.0.1" })
      )
      expect(authorization.status).toBe("valid")
      expect(authorization.challenges.find((c) => c.type === "http-01")?.status).toBe("valid")
    }))

  it.effect("tls-alpn-01 through the TLS server, for a DNS name", () =>
    Effect.gen(function*() {
      const authorization = yield* validate(
        "tls-alpn-01",
        Identifier.dns("tls.example.test"),
        (pebble) => ({ type: "tls-alpn-01", port: pebble.tlsPort, address: "127.0.0.1" })
      )
      expect(authorization.status).toBe("valid")
      expect(authorization.challenges.find((c) => c.type === "tls-alpn-01")?.status).toBe("valid")
    }))

  it.effect("tls-alpn-01 for an IP address (SNI 1.0.0.127.in-addr.arpa)", () =>
    Effect.gen(function*() {
      const authorization = yield* validate(
        "tls-alpn-01",
        Identifier.ip("127.0.0.1"),
        (pebble) => ({ type: "tls-alpn-01", port: pebble.tlsPort, address: "127.0.0.1" })
      )
      expect(authorization.status).toBe("valid")
    }))

  it.effect("http-01 for an IP address", () =>
    Effect.gen(function*() {
      const authorization = yield* validate(
        "http-01",
        Identifier.ip("127.0.0.1"),
        (pebble) => ({ type: "http-01", port: pebble.httpPort, address: "127.0.0.1" })
      )
      expect(authorization.status).toBe("valid")
    }))
})
