/**
 * A counting HTTPS reverse proxy in front of Pebble: every client under test talks to the proxy,
 * so every client's requests to the CA are counted the same way, by method and endpoint.
 *
 * The proxy serves Pebble's own TLS certificate (issued by the harness's throw-away CA, which the
 * clients are told to trust) and passes the `Host` header through unchanged: Pebble builds every URL
 * it hands out (directory, orders, authorizations, `Location`) and checks every JWS `url` against the
 * request's `Host`, so clients stay on the proxy without any rewriting.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import type { Scope } from "effect"
import * as fs from "node:fs"
import * as https from "node:https"
import type { AddressInfo } from "node:net"
import * as path from "node:path"

/**
 * What the proxy saw since the last `reset`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Counts {
  /** requests by `METHOD /endpoint` (the first path segment; Pebble puts ids after it) */
  readonly byEndpoint: Readonly<Record<string, number>>
  readonly requests: number
  /** TLS connections the clients opened to the proxy (one per request without keep-alive) */
  readonly connections: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface CountingProxy {
  /** `https://127.0.0.1:<port>` */
  readonly origin: string
  /** Pebble's directory through the proxy */
  readonly directoryUrl: string
  /** the PEM file of the root the proxy's certificate chains to */
  readonly caFile: string
  /** the counts since the last reset, and a reset */
  readonly take: Effect.Effect<Counts>
}

/**
 * Starts the proxy for the Pebble at `directoryUrl`, whose harness wrote its TLS material to
 * `tempDirectory` (`pebble-cert.pem`, `pebble-key.pem`, `ca.pem`). Closed with the scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (pebble: {
  readonly directoryUrl: string
  readonly tempDirectory: string
}): Effect.Effect<CountingProxy, never, Scope.Scope> =>
  Effect.gen(function*() {
    const upstream = new URL(pebble.directoryUrl)
    const caFile = path.join(pebble.tempDirectory, "ca.pem")
    const ca = fs.readFileSync(caFile, "utf8")
    const agent = new https.Agent({ keepAlive: true, ca, maxSockets: 64 })
    let byEndpoint: Record<string, number> = {}
    let requests = 0
    let connections = 0
    const trace = process.env["BENCH_PROXY_TRACE"] === "1"
    const traceStart = performance.now()
    const server = https.createServer({
      cert: fs.readFileSync(path.join(pebble.tempDirectory, "pebble-cert.pem")),
      key: fs.readFileSync(path.join(pebble.tempDirectory, "pebble-key.pem")),
      keepAliveTimeout: 30_000
    }, (request, response) => {
      const method = request.method ?? "GET"
      const endpoint = `${method} /${(request.url ?? "/").split("?")[0]?.split("/")[1] ?? ""}`
      byEndpoint[endpoint] = (byEndpoint[endpoint] ?? 0) + 1
      requests += 1
      if (trace) process.stderr.write(`${(performance.now() - traceStart).toFixed(0).padStart(7)} ms  ${endpoint}\n`)
      const forwarded = https.request({
        host: upstream.hostname,
        port: upstream.port,
        method,
        path: request.url,
        headers: request.headers,
        agent
      }, (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(response)
      })
      forwarded.on("error", (error) => {
        response.writeHead(502, { "content-type": "text/plain" })
        response.end(`bench proxy: ${error.message}`)
      })
      request.pipe(forwarded)
    })
    server.on("secureConnection", () => {
      connections += 1
      if (trace) process.stderr.write(`${(performance.now() - traceStart).toFixed(0).padStart(7)} ms  (new TLS connection)\n`)
    })
    const port = yield* Effect.acquireRelease(
      Effect.async<number>((resume) => {
        // a server listening on a TCP port has an AddressInfo address (a string only for pipes)
        server.listen(0, "127.0.0.1", () => resume(Effect.succeed((server.address() as AddressInfo).port)))
      }),
      () =>
        Effect.async<void>((resume) => {
          server.closeAllConnections()
          agent.destroy()
          server.close(() => resume(Effect.void))
        })
    )
    const origin = `https://127.0.0.1:${port}`
    return {
      origin,
      directoryUrl: `${origin}${upstream.pathname}`,
      caFile,
      take: Effect.sync(() => {
        const counts: Counts = { byEndpoint, requests, connections }
        byEndpoint = {}
        requests = 0
        connections = 0
        return counts
      })
    }
  })
