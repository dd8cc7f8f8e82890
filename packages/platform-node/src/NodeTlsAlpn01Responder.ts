/**
 * Answers tls-alpn-01 challenges (RFC 8737, and RFC 8738 §6 for IP addresses) with a TLS server
 * of its own on `address` (default: every interface) and `port` (default 443).
 *
 * Each connection's ClientHello is read before anything is answered: a client that does not offer
 * the `acme-tls/1` ALPN protocol, or names no host (SNI), is disconnected without seeing a
 * certificate. The others get, through the TLS server's `SNICallback`, the self-signed validation
 * certificate of the registered host (`ChallengeResponse.tlsAlpn01Certificate`); for an IP
 * identifier the host is its reverse-DNS name, e.g. `1.0.0.127.in-addr.arpa`.
 *
 * Why the ClientHello is read here and not left to `tls.createServer({ ALPNCallback, SNICallback })`:
 * on Node 20.20 (OpenSSL 3) `ALPNCallback` is called only when the ClientHello carries an ALPN
 * extension, and `SNICallback` gets the server name alone. A client that offers no ALPN at all
 * (`tls.connect({ servername: "example.org" })`) therefore completes the handshake and receives the
 * validation certificate before any callback could refuse it; `secureConnection` comes too late.
 * (The order of the two callbacks differs too: SNI first in TLS 1.2, ALPN first in TLS 1.3.) The
 * test "Node's ALPNCallback is not called for a ClientHello without ALPN" shows it with the bytes the
 * server sent; when it fails on a newer Node, the callbacks can do this job. One server per
 * address and port, started by the first `present` for it and stopped when its last challenge is
 * cleaned up, or when the Layer's scope closes.
 *
 * @since 0.1.0
 */
import * as ChallengeResponse from "@acme/sdk/ChallengeResponse"
import * as ChallengeSolver from "@acme/sdk/ChallengeSolver"
import type * as Identifier from "@acme/sdk/Identifier"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import * as net from "node:net"
import * as tls from "node:tls"
import * as internal from "./internal/challengeServer.js"

/**
 * The ALPN protocol of tls-alpn-01 (RFC 8737 §6.2).
 *
 * @since 0.1.0
 * @category models
 */
export const ACME_TLS_1 = "acme-tls/1"

/** how long a client may take to send its ClientHello */
const helloTimeoutMillis = 10_000

const ipv6Nibbles = (text: string): string | undefined => {
  let address = text
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(address)
  if (v4 !== null) {
    const octets = (v4[2] ?? "").split(".").map(Number)
    const hex = (a: number | undefined, b: number | undefined) => (((a ?? 0) << 8) | (b ?? 0)).toString(16)
    address = `${v4[1]}${hex(octets[0], octets[1])}:${hex(octets[2], octets[3])}`
  }
  const halves = address.split("::")
  if (halves.length > 2) return undefined
  const head = halves[0] === undefined || halves[0] === "" ? [] : halves[0].split(":")
  const tail = halves[1] === undefined || halves[1] === "" ? [] : halves[1].split(":")
  const missing = 8 - head.length - tail.length
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined
  const groups = [...head, ...Array.from({ length: missing }, () => "0"), ...tail]
  if (!groups.every((group) => /^[0-9a-fA-F]{1,4}$/.test(group))) return undefined
  return groups.map((group) => group.toLowerCase().padStart(4, "0")).join("")
}

/**
 * The TLS server name (SNI) a CA sends when validating an identifier: the DNS name itself (lower
 * case, no trailing dot), or for an IP address its reverse-DNS name (RFC 8738 §6):
 * `1.0.0.127.in-addr.arpa`, `1.0.0. … .8.b.d.0.1.0.0.2.ip6.arpa`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const serverName = (identifier: Identifier.Identifier): Option.Option<string> => {
  if (identifier.type === "dns") {
    const name = identifier.value.toLowerCase().replace(/\.$/, "")
    return name.length > 0 ? Option.some(name) : Option.none()
  }
  if (identifier.type !== "ip") return Option.none()
  if (net.isIPv4(identifier.value)) {
    return Option.some(`${identifier.value.split(".").map(Number).reverse().join(".")}.in-addr.arpa`)
  }
  if (!net.isIPv6(identifier.value)) return Option.none()
  return Option.map(
    Option.fromNullable(ipv6Nibbles(identifier.value)),
    (nibbles) => `${[...nibbles].reverse().join(".")}.ip6.arpa`
  )
}

const normalizeHost = (host: string): string => host.toLowerCase().replace(/\.$/, "")

interface Registration {
  readonly keyAuthorization: string
  readonly context: tls.SecureContext
}

const tlsAlpn01Config = (task: ChallengeSolver.ChallengeTask) =>
  task.config.type === "tls-alpn-01" ? task.config : undefined

/**
 * The responder; its servers are stopped when the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<ChallengeSolver.Responder, never, Scope.Scope> = Effect.gen(function*() {
  const runFork = Runtime.runFork(yield* Effect.runtime<never>())
  const pool = yield* internal.makePool<Registration>()

  const log = (message: string, annotations: Record<string, unknown>) =>
    runFork(Effect.logDebug(message).pipe(Effect.annotateLogs(annotations)))

  const startServer = (task: ChallengeSolver.ChallengeTask, endpoint: internal.Endpoint) =>
  (registrations: ReadonlyMap<string, Registration>) =>
    Effect.gen(function*() {
      const tlsServer = tls.createServer({
        ALPNProtocols: [ACME_TLS_1],
        SNICallback: (name, callback) => {
          const registration = registrations.get(normalizeHost(name))
          if (registration === undefined) callback(new Error(`no tls-alpn-01 challenge for ${name}`), undefined)
          else callback(null, registration.context)
        }
      })
      tlsServer.on("secureConnection", (socket: tls.TLSSocket) => {
        // ALPN was checked in the ClientHello already; this is the second lock on the door
        if (socket.alpnProtocol !== ACME_TLS_1) {
          socket.destroy()
          return
        }
        log("tls-alpn-01 handshake", {
          remoteAddress: socket.remoteAddress ?? "unknown",
          serverName: typeof socket.servername === "string" ? socket.servername : ""
        })
        // RFC 8737 §3: the CA closes after the handshake; nothing is exchanged
        socket.end()
      })
      tlsServer.on("tlsClientError", (error, socket) => {
        log("tls-alpn-01 handshake failed", {
          remoteAddress: socket.remoteAddress ?? "unknown",
          error: internal.oneLine(error.message)
        })
      })

      // the listening server reads the ClientHello, then hands the connection to the TLS server
      const server = net.createServer((socket) => {
        const chunks: Array<Buffer> = []
        const refuse = (why: string) => {
          log("tls-alpn-01 connection refused", { remoteAddress: socket.remoteAddress ?? "unknown", reason: why })
          socket.destroy()
        }
        const onData = (chunk: Buffer) => {
          chunks.push(chunk)
          const hello = internal.parseClientHello(Buffer.concat(chunks))
          if (hello._tag === "Incomplete") return
          socket.off("data", onData)
          socket.setTimeout(0)
          if (hello._tag === "Invalid") return refuse("not a TLS ClientHello")
          if (!hello.alpn.includes(ACME_TLS_1)) return refuse(`ALPN ${ACME_TLS_1} not offered`)
          if (hello.serverName === undefined) return refuse("no server name (SNI)")
          socket.pause()
          socket.unshift(Buffer.concat(chunks))
          tlsServer.emit("connection", socket)
        }
        socket.on("data", onData)
        socket.on("error", () => socket.destroy())
        socket.setTimeout(helloTimeoutMillis, () => refuse("no ClientHello in time"))
      })
      const sockets = internal.trackConnections(server)
      yield* internal.listen(server, endpoint, task)
      yield* Effect.logDebug(`tls-alpn-01 server listening on ${internal.describeEndpoint(endpoint)}`)
      return internal.closeServer(server, sockets).pipe(
        Effect.zipRight(Effect.logDebug(`tls-alpn-01 server on ${internal.describeEndpoint(endpoint)} stopped`))
      )
    })

  const endpointOf = (task: ChallengeSolver.ChallengeTask): internal.Endpoint => {
    const config = tlsAlpn01Config(task)
    return { port: config?.port ?? 443, address: config?.address }
  }

  const hostOf = (task: ChallengeSolver.ChallengeTask) =>
    Option.match(serverName(task.identifier), {
      onNone: () =>
        Effect.fail(
          internal.challengeError(task, "Unsupported", `a ${task.identifier.type} identifier cannot be validated with tls-alpn-01`)
        ),
      onSome: Effect.succeed
    })

  return ChallengeSolver.TlsAlpn01Responder.of({
    present: (task) =>
      Effect.gen(function*() {
        const host = yield* hostOf(task)
        const certificate = yield* ChallengeResponse.tlsAlpn01Certificate({
          identifier: task.identifier,
          keyAuthorization: task.keyAuthorization
        }).pipe(Effect.mapError((error) => internal.challengeError(task, "Io", error.message)))
        const context = yield* Effect.try({
          try: () => tls.createSecureContext({ cert: certificate.certificatePem, key: certificate.privateKeyPem }),
          catch: (error) =>
            internal.challengeError(task, "Io", `cannot load the validation certificate: ${internal.oneLine(String(error))}`)
        })
        const endpoint = endpointOf(task)
        yield* pool.register(endpoint, host, { keyAuthorization: task.keyAuthorization, context }, startServer(task, endpoint))
      }).pipe(Effect.withSpan("NodeTlsAlpn01Responder.present", { attributes: { identifier: task.identifier.value } })),
    cleanup: (task) =>
      Option.match(serverName(task.identifier), {
        onNone: () => Effect.void,
        onSome: (host) =>
          pool.unregister(endpointOf(task), host, (registration) => registration.keyAuthorization === task.keyAuthorization)
      }).pipe(Effect.withSpan("NodeTlsAlpn01Responder.cleanup", { attributes: { identifier: task.identifier.value } }))
  })
})

/**
 * The tls-alpn-01 responder as a scoped Layer: servers still running when its scope closes are
 * stopped.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<ChallengeSolver.TlsAlpn01Responder> = Layer.scoped(ChallengeSolver.TlsAlpn01Responder, make)
