import { NodeTlsAlpn01Responder } from "@acme/platform-node"
import { ChallengeResponse, ChallengeSolver, Identifier } from "@acme/sdk"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { createHash, X509Certificate } from "node:crypto"
import * as tls from "node:tls"
import { freePort, handshake, occupy, recordedHandshake, task } from "./support.js"

const Responder = NodeTlsAlpn01Responder.layer

/**
 * The DER of the acmeIdentifier extension (RFC 8737 §3): OID 1.3.6.1.5.5.7.1.31, critical TRUE,
 * and an OCTET STRING holding the DER OCTET STRING of SHA-256(key authorization).
 */
const acmeIdentifierExtension = (keyAuthorization: string) =>
  Buffer.concat([
    Buffer.from("06082b0601050507011f", "hex"),
    Buffer.from("0101ff", "hex"),
    Buffer.from("04220420", "hex"),
    createHash("sha256").update(keyAuthorization).digest()
  ])

const tlsTask = (port: number, identifier: Identifier.Identifier, keyAuthorization = "token.thumbprint") =>
  task({
    type: "tls-alpn-01",
    identifier,
    token: "token",
    keyAuthorization,
    config: { type: "tls-alpn-01", port, address: "127.0.0.1" }
  })

describe("NodeTlsAlpn01Responder", () => {
  it("serverName: DNS names as they are, IP addresses as reverse-DNS names (RFC 8738 §6)", () => {
    expect(NodeTlsAlpn01Responder.serverName(Identifier.dns("Example.ORG."))).toEqual(Option.some("example.org"))
    expect(NodeTlsAlpn01Responder.serverName(Identifier.ip("127.0.0.1"))).toEqual(Option.some("1.0.0.127.in-addr.arpa"))
    expect(NodeTlsAlpn01Responder.serverName(Identifier.ip("2001:db8::1"))).toEqual(
      Option.some("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa")
    )
    expect(NodeTlsAlpn01Responder.serverName(Identifier.ip("::ffff:192.0.2.1"))).toEqual(
      Option.some("1.0.2.0.0.0.0.c.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa")
    )
    expect(NodeTlsAlpn01Responder.serverName(Identifier.ip("not-an-ip"))).toEqual(Option.none())
    expect(NodeTlsAlpn01Responder.serverName({ type: "email", value: "a@b.c" })).toEqual(Option.none())
  })

  it.live("presents the validation certificate: SAN and the critical acmeIdentifier extension", () =>
    Effect.gen(function*() {
      const responder = yield* ChallengeSolver.TlsAlpn01Responder
      const port = yield* freePort
      const dns = tlsTask(port, Identifier.dns("example.org"), "dns-token.thumbprint")
      const ip = tlsTask(port, Identifier.ip("127.0.0.1"), "ip-token.thumbprint")
      yield* responder.present(dns)
      yield* responder.present(ip)

      const byName = yield* handshake({ port, servername: "example.org", ALPNProtocols: ["acme-tls/1"] })
      expect(byName.alpnProtocol).toBe("acme-tls/1")
      const certificate = new X509Certificate(byName.certificate)
      expect(certificate.subjectAltName).toBe("DNS:example.org")
      expect(byName.certificate.includes(acmeIdentifierExtension("dns-token.thumbprint"))).toBe(true)

      const byAddress = yield* handshake({ port, servername: "1.0.0.127.in-addr.arpa", ALPNProtocols: ["acme-tls/1"] })
      expect(new X509Certificate(byAddress.certificate).subjectAltName).toBe("IP Address:127.0.0.1")
      expect(byAddress.certificate.includes(acmeIdentifierExtension("ip-token.thumbprint"))).toBe(true)

      // one server for both; it stops with the last cleanup
      yield* responder.cleanup(dns)
      yield* Effect.flip(handshake({ port, servername: "example.org", ALPNProtocols: ["acme-tls/1"] }))
      yield* handshake({ port, servername: "1.0.0.127.in-addr.arpa", ALPNProtocols: ["acme-tls/1"] })
      yield* responder.cleanup(ip)
      const refused = yield* Effect.flip(handshake({ port, servername: "example.org", ALPNProtocols: ["acme-tls/1"] }))
      expect(refused.message).toMatch(/ECONNREFUSED/)
    }).pipe(Effect.provide(Responder)))

  it.live("refuses connections that do not negotiate acme-tls/1, without showing the certificate", () =>
    Effect.gen(function*() {
      const responder = yield* ChallengeSolver.TlsAlpn01Responder
      const port = yield* freePort
      yield* responder.present(tlsTask(port, Identifier.dns("example.org")))
      // the control: over TLS 1.2 the certificate the CA gets is in the bytes the server sent
      const served = yield* recordedHandshake({ port, servername: "example.org", ALPNProtocols: ["acme-tls/1"] })
      if (served.result instanceof Error) return expect.fail(served.result.message)
      expect(served.result.alpnProtocol).toBe("acme-tls/1")
      const certificate = served.result.certificate
      expect(served.serverBytes.includes(certificate)).toBe(true)
      for (
        const attempt of [
          { servername: "example.org" }, // no ALPN at all
          { servername: "example.org", ALPNProtocols: ["http/1.1", "h2"] },
          { servername: "unknown.example.org", ALPNProtocols: ["acme-tls/1"] },
          { servername: undefined, ALPNProtocols: ["acme-tls/1"] } // to an IP address: no SNI
        ]
      ) {
        const refused = yield* recordedHandshake({ port, ...attempt })
        expect(refused.result).toBeInstanceOf(Error)
        expect(refused.serverBytes.includes(certificate)).toBe(false)
        const tls13 = yield* Effect.flip(handshake({ port, ...attempt }))
        expect(tls13).toBeInstanceOf(Error)
      }
      // and still answers the CA afterwards
      expect((yield* handshake({ port, servername: "example.org", ALPNProtocols: ["acme-tls/1"] })).alpnProtocol).toBe(
        "acme-tls/1"
      )
    }).pipe(Effect.provide(Responder)))

  // Why the responder reads the ClientHello itself instead of relying on Node's ALPNCallback: on
  // Node 20 (OpenSSL 3) the ALPN callback runs only when the ClientHello carries an ALPN extension,
  // and SNICallback sees the server name alone, so a client that offers no ALPN at all completes the
  // handshake and is shown the validation certificate. If this test fails on a newer Node, the
  // callbacks can refuse that client and the hand-written reader can go.
  it.live("Node's ALPNCallback is not called for a ClientHello without ALPN (the certificate is shown)", () =>
    Effect.gen(function*() {
      const pem = yield* ChallengeResponse.tlsAlpn01Certificate({
        identifier: Identifier.dns("example.org"),
        keyAuthorization: "token.thumbprint"
      })
      const context = tls.createSecureContext({ cert: pem.certificatePem, key: pem.privateKeyPem })
      const alpnCalls: Array<ReadonlyArray<string>> = []
      const server = yield* Effect.acquireRelease(
        Effect.async<tls.Server>((resume) => {
          const server = tls.createServer({
            SNICallback: (_name, callback) => callback(null, context),
            ALPNCallback: ({ protocols }) => {
              alpnCalls.push(protocols)
              return protocols.includes("acme-tls/1") ? "acme-tls/1" : undefined
            }
          })
          server.on("secureConnection", (socket: tls.TLSSocket) => socket.end())
          server.on("tlsClientError", () => {})
          server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
        }),
        (server) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
      )
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      const certificate = new X509Certificate(pem.certificatePem).raw

      // offered other protocols: ALPNCallback refuses before any certificate is sent
      const other = yield* recordedHandshake({ port, servername: "example.org", ALPNProtocols: ["http/1.1"] })
      expect(other.result).toBeInstanceOf(Error)
      expect(other.serverBytes.includes(certificate)).toBe(false)
      expect(alpnCalls).toEqual([["http/1.1"]])

      // offered nothing: ALPNCallback is never asked, and the client gets the certificate
      const none = yield* recordedHandshake({ port, servername: "example.org" })
      expect(alpnCalls).toHaveLength(1)
      expect(none.result).not.toBeInstanceOf(Error)
      expect(none.serverBytes.includes(certificate)).toBe(true)
    }).pipe(Effect.scoped))

  it.live("a port in use is PortInUse", () =>
    Effect.gen(function*() {
      const responder = yield* ChallengeSolver.TlsAlpn01Responder
      const port = yield* freePort
      yield* occupy(port)
      const error = yield* Effect.flip(responder.present(tlsTask(port, Identifier.dns("example.org"))))
      expect(error.reason).toBe("PortInUse")
      expect(error.challengeType).toBe("tls-alpn-01")
      expect(error.message).toContain(`port ${port}`)
    }).pipe(Effect.provide(Responder), Effect.scoped))

  it.live("an identifier it cannot name is Unsupported", () =>
    Effect.gen(function*() {
      const responder = yield* ChallengeSolver.TlsAlpn01Responder
      const error = yield* Effect.flip(responder.present(tlsTask(443, { type: "email", value: "a@b.c" })))
      expect(error.reason).toBe("Unsupported")
    }).pipe(Effect.provide(Responder)))
})
