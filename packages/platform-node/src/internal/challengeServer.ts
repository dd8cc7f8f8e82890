/**
 * What the http-01 and tls-alpn-01 responders share: one server per address and port, started
 * with its first registration and stopped with its last; listen errors as ChallengeErrors; and a
 * reader for the TLS ClientHello (to see the offered ALPN protocols and the SNI before answering:
 * Node's `ALPNCallback` is not called for a ClientHello without an ALPN extension, so it cannot
 * refuse such a client before the certificate is sent; see `NodeTlsAlpn01Responder.ts`).
 */
import { ChallengeError, type ChallengeTask } from "@acme/sdk/ChallengeSolver"
import * as Effect from "effect/Effect"
import * as Predicate from "effect/Predicate"
import type * as Scope from "effect/Scope"
import type * as net from "node:net"

/** @internal */
export interface Endpoint {
  readonly port: number
  /** undefined: every interface (`::`, or `0.0.0.0` where there is no IPv6) */
  readonly address: string | undefined
}

/** @internal */
export const describeEndpoint = (endpoint: Endpoint): string =>
  `port ${endpoint.port} on ${endpoint.address ?? "all interfaces"}`

/** @internal */
export const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, " ").trim()

const errorCode = (error: unknown): string | undefined =>
  Predicate.hasProperty(error, "code") && typeof error.code === "string" ? error.code : undefined

/** @internal */
export const challengeError = (
  task: ChallengeTask,
  reason: ChallengeError["reason"],
  description: string
): ChallengeError =>
  new ChallengeError({ reason, challengeType: task.type, identifier: task.identifier.value, description })

/**
 * Listens on the endpoint. EADDRINUSE is PortInUse, EACCES/EPERM PermissionDenied, the rest Io.
 *
 * @internal
 */
export const listen = (server: net.Server, endpoint: Endpoint, task: ChallengeTask): Effect.Effect<void, ChallengeError> =>
  Effect.async<void, ChallengeError>((resume) => {
    const onError = (error: Error) => {
      server.off("listening", onListening)
      const code = errorCode(error)
      const where = describeEndpoint(endpoint)
      resume(Effect.fail(
        code === "EADDRINUSE"
          ? challengeError(task, "PortInUse", `${where} is in use`)
          : code === "EACCES" || code === "EPERM"
          ? challengeError(task, "PermissionDenied", `no permission to listen on ${where}`)
          : challengeError(task, "Io", `cannot listen on ${where}: ${oneLine(error.message)}`)
      ))
    }
    const onListening = () => {
      server.off("error", onError)
      resume(Effect.void)
    }
    server.once("error", onError)
    server.once("listening", onListening)
    server.listen(endpoint.address === undefined ? { port: endpoint.port } : { port: endpoint.port, host: endpoint.address })
    return Effect.sync(() => server.close())
  })

/**
 * Closes the server and every connection still open on it (keep-alive ones included).
 *
 * @internal
 */
export const closeServer = (server: net.Server, sockets: ReadonlySet<net.Socket>): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    server.close(() => resume(Effect.void))
    for (const socket of sockets) socket.destroy()
  })

/** @internal */
export const trackConnections = (server: net.Server): ReadonlySet<net.Socket> => {
  const sockets = new Set<net.Socket>()
  server.on("connection", (socket: net.Socket) => {
    sockets.add(socket)
    socket.once("close", () => sockets.delete(socket))
  })
  return sockets
}

/** @internal */
export interface Pool<V> {
  /**
   * Registers `value` under `key` at the endpoint, starting the endpoint's server first when it
   * has none: `start` gets the live registrations (its handlers read them) and returns how to stop.
   */
  readonly register: (
    endpoint: Endpoint,
    key: string,
    value: V,
    start: (registrations: ReadonlyMap<string, V>) => Effect.Effect<Effect.Effect<void>, ChallengeError>
  ) => Effect.Effect<void, ChallengeError>
  /** removes the registration if `owns` it, and stops the server when it was the last one */
  readonly unregister: (endpoint: Endpoint, key: string, owns: (value: V) => boolean) => Effect.Effect<void>
}

/**
 * Servers by endpoint; every server still running when the scope closes is stopped.
 *
 * @internal
 */
export const makePool = <V>(): Effect.Effect<Pool<V>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const lock = yield* Effect.makeSemaphore(1)
    // only touched under the lock; the servers' handlers read their own registrations
    const servers = new Map<string, { readonly registrations: Map<string, V>; readonly stop: Effect.Effect<void> }>()
    const id = (endpoint: Endpoint) => `${endpoint.address ?? "*"}|${endpoint.port}`

    yield* Effect.addFinalizer(() =>
      lock.withPermits(1)(
        Effect.suspend(() => {
          const running = [...servers.values()]
          servers.clear()
          return Effect.forEach(running, (server) => server.stop, { discard: true })
        })
      )
    )

    return {
      register: (endpoint, key, value, start) =>
        lock.withPermits(1)(Effect.gen(function*() {
          const existing = servers.get(id(endpoint))
          if (existing !== undefined) {
            existing.registrations.set(key, value)
            return
          }
          const registrations = new Map([[key, value]])
          const stop = yield* start(registrations)
          servers.set(id(endpoint), { registrations, stop })
        })),
      unregister: (endpoint, key, owns) =>
        lock.withPermits(1)(Effect.gen(function*() {
          const server = servers.get(id(endpoint))
          if (server === undefined) return
          const current = server.registrations.get(key)
          if (current !== undefined && owns(current)) server.registrations.delete(key)
          if (server.registrations.size === 0) {
            servers.delete(id(endpoint))
            yield* server.stop
          }
        }))
    }
  })

/** @internal */
export type ClientHello =
  | { readonly _tag: "Incomplete" }
  | { readonly _tag: "Invalid" }
  | { readonly _tag: "Hello"; readonly alpn: ReadonlyArray<string>; readonly serverName: string | undefined }

const maxClientHelloBytes = 64 * 1024

const reader = (bytes: Uint8Array) => {
  let offset = 0
  const take = (length: number): Uint8Array | undefined => {
    if (offset + length > bytes.length) return undefined
    const out = bytes.subarray(offset, offset + length)
    offset += length
    return out
  }
  const uint = (length: number): number | undefined => {
    const out = take(length)
    return out === undefined ? undefined : out.reduce((value, byte) => value * 256 + byte, 0)
  }
  const vector = (lengthBytes: number): Uint8Array | undefined => {
    const length = uint(lengthBytes)
    return length === undefined ? undefined : take(length)
  }
  return { take, uint, vector, remaining: () => bytes.length - offset }
}

const latin1 = (bytes: Uint8Array): string => String.fromCharCode(...bytes)

const parseHelloBody = (body: Uint8Array): ClientHello => {
  const invalid: ClientHello = { _tag: "Invalid" }
  const r = reader(body)
  if (r.take(2 + 32) === undefined) return invalid // legacy_version, random
  if (r.vector(1) === undefined || r.vector(2) === undefined || r.vector(1) === undefined) return invalid
  let alpn: Array<string> = []
  let serverName: string | undefined
  if (r.remaining() === 0) return { _tag: "Hello", alpn, serverName }
  const extensions = r.vector(2)
  if (extensions === undefined) return invalid
  const e = reader(extensions)
  while (e.remaining() > 0) {
    const type = e.uint(2)
    const data = e.vector(2)
    if (type === undefined || data === undefined) return invalid
    if (type === 16) { // application_layer_protocol_negotiation
      const list = reader(data).vector(2)
      if (list === undefined) return invalid
      const l = reader(list)
      alpn = []
      while (l.remaining() > 0) {
        const protocol = l.vector(1)
        if (protocol === undefined) return invalid
        alpn.push(latin1(protocol))
      }
    } else if (type === 0) { // server_name
      const list = reader(data).vector(2)
      if (list === undefined) return invalid
      const l = reader(list)
      while (l.remaining() > 0) {
        const nameType = l.uint(1)
        const name = l.vector(2)
        if (nameType === undefined || name === undefined) return invalid
        if (nameType === 0 && serverName === undefined) serverName = latin1(name)
      }
    }
  }
  return { _tag: "Hello", alpn, serverName }
}

/**
 * Reads the ClientHello at the start of a TLS connection (it may span several records), for its
 * ALPN protocols and SNI host name.
 *
 * @internal
 */
export const parseClientHello = (data: Uint8Array): ClientHello => {
  if (data.length > maxClientHelloBytes) return { _tag: "Invalid" }
  const records = reader(data)
  const fragments: Array<Uint8Array> = []
  let handshakeLength = 0
  while (records.remaining() > 0) {
    const header = records.take(5)
    if (header === undefined) return { _tag: "Incomplete" }
    if (header[0] !== 22) return { _tag: "Invalid" } // not a handshake record
    const fragment = records.take(((header[3] ?? 0) << 8) | (header[4] ?? 0))
    if (fragment === undefined) return { _tag: "Incomplete" }
    fragments.push(fragment)
    handshakeLength += fragment.length
    const handshake = new Uint8Array(handshakeLength)
    let at = 0
    for (const part of fragments) {
      handshake.set(part, at)
      at += part.length
    }
    const h = reader(handshake)
    const type = h.uint(1)
    const length = h.uint(3)
    if (type === undefined || length === undefined) continue
    if (type !== 1) return { _tag: "Invalid" } // not a ClientHello
    const body = h.take(length)
    if (body !== undefined) return parseHelloBody(body)
  }
  return { _tag: "Incomplete" }
}
