/**
 * Test support: free loopback ports, challenge tasks, HTTP GETs and TLS handshakes against our servers.
 */
import { type ChallengeSolver, Identifier } from "@acme/sdk"
import { Effect } from "effect"
import * as net from "node:net"
import * as tls from "node:tls"

/** a port free on 127.0.0.1 right now */
export const freePort: Effect.Effect<number> = Effect.async<number>((resume) => {
  const server = net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** occupies a port until the scope closes */
export const occupy = (port: number, host = "127.0.0.1") =>
  Effect.acquireRelease(
    Effect.async<net.Server>((resume) => {
      const server = net.createServer()
      server.listen(port, host, () => resume(Effect.succeed(server)))
    }),
    (server) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
  )

export const task = (overrides: Partial<ChallengeSolver.ChallengeTask> = {}): ChallengeSolver.ChallengeTask => ({
  certificate: "example",
  identifier: Identifier.dns("example.org"),
  type: "http-01",
  token: "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA",
  keyAuthorization: "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA.NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
  config: { type: "http-01" },
  ...overrides
})

export interface HttpAnswer {
  readonly status: number
  readonly contentType: string | null
  readonly body: string
}

/** a GET; fails (as a defect-free Error) when the connection is refused */
export const get = (url: string, method = "GET"): Effect.Effect<HttpAnswer, Error> =>
  Effect.tryPromise({
    try: async () => {
      const response = await fetch(url, { method, headers: { connection: "close" } })
      return { status: response.status, contentType: response.headers.get("content-type"), body: await response.text() }
    },
    catch: (error) => error instanceof Error ? error : new Error(String(error))
  })

export interface Handshake {
  readonly alpnProtocol: string | false | null
  readonly certificate: Buffer
}

/** a TLS handshake; the connection is closed right after it, as a CA does */
export const handshake = (options: {
  readonly port: number
  readonly host?: string
  readonly servername?: string | undefined
  readonly ALPNProtocols?: Array<string> | undefined
  readonly maxVersion?: tls.SecureVersion | undefined
}): Effect.Effect<Handshake, Error> =>
  Effect.async<Handshake, Error>((resume_) => {
    let done = false
    const resume = (effect: Effect.Effect<Handshake, Error>) => {
      if (!done) resume_(effect)
      done = true
    }
    const socket = tls.connect({
      port: options.port,
      host: options.host ?? "127.0.0.1",
      rejectUnauthorized: false,
      ...(options.servername === undefined ? {} : { servername: options.servername }),
      ...(options.ALPNProtocols === undefined ? {} : { ALPNProtocols: options.ALPNProtocols }),
      ...(options.maxVersion === undefined ? {} : { maxVersion: options.maxVersion })
    }, () => {
      const certificate = socket.getPeerCertificate()
      resume(Effect.succeed({ alpnProtocol: socket.alpnProtocol ?? null, certificate: certificate.raw }))
      socket.end()
    })
    socket.once("error", (error) => resume(Effect.fail(error)))
    socket.once("close", () => resume(Effect.fail(new Error("closed before the handshake"))))
    return Effect.sync(() => socket.destroy())
  })

/**
 * A TLS 1.2 handshake through a loopback relay that records every byte the server sent: in TLS 1.2
 * the server's Certificate message is in clear, so `serverBytes` shows whether the client was
 * shown a certificate even when the handshake then failed.
 */
export const recordedHandshake = (options: {
  readonly port: number
  readonly servername?: string | undefined
  readonly ALPNProtocols?: Array<string> | undefined
}): Effect.Effect<{ readonly result: Handshake | Error; readonly serverBytes: Buffer }> =>
  Effect.gen(function*() {
    const received: Array<Buffer> = []
    const relay = yield* Effect.acquireRelease(
      Effect.async<net.Server>((resume) => {
        const server = net.createServer((client) => {
          const upstream = net.connect(options.port, "127.0.0.1")
          upstream.on("data", (chunk: Buffer) => received.push(chunk))
          client.pipe(upstream).pipe(client)
          const close = () => {
            client.destroy()
            upstream.destroy()
          }
          client.on("error", close).on("close", close)
          upstream.on("error", close).on("close", close)
        })
        server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
      }),
      (server) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
    )
    const address = relay.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    const result = yield* Effect.either(handshake({ ...options, port, maxVersion: "TLSv1.2" }))
    return { result: result._tag === "Right" ? result.right : result.left, serverBytes: Buffer.concat(received) }
  }).pipe(Effect.scoped)
