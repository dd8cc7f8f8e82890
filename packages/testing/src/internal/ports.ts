/**
 * Free loopback ports: bind 127.0.0.1:0, read the port the kernel picked, close (when the scope
 * closes: ports taken in one scope are distinct). A port that must also take UDP (DNS) is bound on
 * both protocols before it is accepted.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Dgram from "node:dgram"
import * as Net from "node:net"
import { PebbleError } from "../PebbleError.js"

const host = "127.0.0.1"

const noPort = (cause: Error) =>
  new PebbleError({ reason: "StartFailed", message: `could not reserve a free loopback port: ${cause.message}` })

const tcp = (port: number): Effect.Effect<number, Error, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<Net.Server, Error>((resume) => {
      const server = Net.createServer()
      server.once("error", (error) => resume(Effect.fail(error)))
      server.listen({ port, host, exclusive: true }, () => resume(Effect.succeed(server)))
    }),
    (server) =>
      Effect.async<void>((resume) => {
        server.close(() => resume(Effect.void))
      })
  ).pipe(
    Effect.flatMap((server) => {
      const address = server.address()
      return typeof address === "object" && address !== null
        ? Effect.succeed(address.port)
        : Effect.fail(new Error(`unexpected server address ${String(address)}`))
    })
  )

const udp = (port: number): Effect.Effect<number, Error, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<Dgram.Socket, Error>((resume) => {
      const socket = Dgram.createSocket("udp4")
      socket.once("error", (error) => resume(Effect.fail(error)))
      socket.bind({ port, address: host, exclusive: true }, () => resume(Effect.succeed(socket)))
    }),
    (socket) =>
      Effect.async<void>((resume) => {
        socket.close(() => resume(Effect.void))
      })
  ).pipe(Effect.as(port))

/**
 * A free TCP port, held until the scope closes (so ports taken in one scope are distinct).
 *
 * @internal
 */
export const tcpPort: Effect.Effect<number, PebbleError, Scope.Scope> = tcp(0).pipe(Effect.mapError(noPort))

/**
 * A port free for both TCP and UDP (DNS), held until the scope closes.
 *
 * @internal
 */
export const tcpAndUdpPort: Effect.Effect<number, PebbleError, Scope.Scope> = tcp(0).pipe(
  Effect.flatMap(udp),
  Effect.retry({ times: 20 }),
  Effect.mapError(noPort)
)
