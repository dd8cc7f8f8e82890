/**
 * The fault proxy's servers: the HTTPS proxy that forwards to the upstream, rewrites its origin to
 * the proxy's and spoils the answers the rules (or the chaos mode) pick, and the traps that record
 * requests sent to any other origin.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import * as Https from "node:https"
import type * as Net from "node:net"
import { PebbleError } from "../PebbleError.js"
import { generateTlsMaterial } from "./certificates.js"
import { answer, replaceOrigin, type Upstream } from "./faultProxy/answer.js"
import * as Chaos from "./faultProxy/chaos.js"
import type { AnswerHeaders, Exchange, Fault, Rule, Service, Trapped } from "./faultProxy/model.js"

export type { AnswerHeaders, ChaosOptions, Exchange, Fault, Rule, Service, Trapped } from "./faultProxy/model.js"

/** @internal */
export interface MakeOptions {
  readonly upstream: string
  readonly upstreamCa: string
  /** the directory's path at the upstream (default `/dir`) */
  readonly directoryPath?: string | undefined
}

interface ActiveRule {
  readonly rule: Rule
  remaining: number
}

const hopByHop = new Set(["connection", "keep-alive", "transfer-encoding", "content-length", "upgrade"])

const random = (): number => (globalThis.crypto.getRandomValues(new Uint32Array(1))[0] ?? 0) / 0x1_0000_0000

const matches = (rule: Rule, method: string, path: string): boolean =>
  (rule.method === undefined || rule.method.toUpperCase() === method) &&
  (typeof rule.path === "string" ? path.startsWith(rule.path) : rule.path.test(path))

const readAll = (stream: NodeJS.ReadableStream): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const parts: Array<Buffer> = []
    stream.on("data", (chunk: Buffer) => parts.push(chunk))
    stream.on("end", () => resolve(Buffer.concat(parts)))
    stream.on("error", reject)
  })

type Handler = (request: Http.IncomingMessage, response: Http.ServerResponse) => Promise<void>

/** A server on a free loopback port, closed with the scope; its port. */
const listen = (
  create: (handler: Http.RequestListener) => Http.Server,
  handler: Handler
): Effect.Effect<number, PebbleError, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(
      Effect.async<Http.Server, PebbleError>((resume) => {
        const server = create((request, response) => {
          response.on("error", () => {})
          handler(request, response).catch((error: unknown) => {
            if (response.headersSent) return request.socket.destroy()
            response.writeHead(502, { "content-type": "text/plain" })
            response.end(`FaultProxy: ${error instanceof Error ? error.message : String(error)}`)
          })
        })
        server.on("clientError", (_error, socket: Net.Socket) => socket.destroy())
        server.once("error", (error) =>
          resume(Effect.fail(
            new PebbleError({ reason: "StartFailed", message: `the fault proxy could not listen: ${error.message}` })
          )))
        server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
      }),
      (server) =>
        Effect.async<void>((resume) => {
          server.closeAllConnections()
          server.close(() => resume(Effect.void))
        })
    ),
    (server) => {
      const address = server.address()
      return typeof address === "object" && address !== null ? address.port : 0
    }
  )

/** @internal */
export const make = (options: MakeOptions): Effect.Effect<Service, PebbleError, Scope.Scope> =>
  Effect.gen(function*() {
    const tls = yield* generateTlsMaterial
    const upstream = new URL(options.upstream)
    const agent = yield* Effect.acquireRelease(
      Effect.sync(() => new Https.Agent({ ca: options.upstreamCa, keepAlive: true })),
      (agent) => Effect.sync(() => agent.destroy())
    )
    const rules: Array<ActiveRule> = []
    const log: Array<Exchange> = []
    const trapped: Array<Trapped> = []
    let chaos: ((method: string, path: string) => Chaos.Mutation | undefined) | undefined
    let origin = ""
    let traps: ReadonlyArray<string> = []

    const pick = (method: string, path: string): Fault | undefined => {
      for (const active of rules) {
        if (active.remaining <= 0 || !matches(active.rule, method, path)) continue
        if (active.rule.percent !== undefined && random() * 100 >= active.rule.percent) continue
        active.remaining -= 1
        return active.rule.fault
      }
      return undefined
    }

    const forward = (request: Http.IncomingMessage, body: Buffer): Promise<Upstream> =>
      new Promise((resolve, reject) => {
        const headers: Http.OutgoingHttpHeaders = { ...request.headers }
        delete headers.connection
        const outgoing = Https.request({
          protocol: "https:",
          hostname: upstream.hostname,
          port: upstream.port,
          method: request.method,
          path: request.url,
          // `host` stays the proxy's: Pebble builds its URLs from it, and checks JWS `url` against it
          headers,
          agent
        }, (response) => {
          readAll(response).then((data) => {
            const kept: AnswerHeaders = {}
            for (const [name, value] of Object.entries(response.headers)) {
              if (value !== undefined && !hopByHop.has(name)) kept[name] = value
            }
            // the upstream's origin, wherever it shows, becomes the proxy's
            resolve(replaceOrigin({ status: response.statusCode ?? 502, headers: kept, body: data }, upstream.origin, origin))
          }, reject)
        })
        outgoing.on("error", reject)
        outgoing.end(body)
      })

    const trap = (scheme: string): Handler => async (request, response) => {
      await readAll(request)
      trapped.push({ origin: `${scheme}://${request.headers.host ?? ""}`, method: request.method ?? "", path: request.url ?? "/" })
      response.writeHead(404, { "content-type": "text/plain", "content-length": 7 })
      response.end("trapped")
    }

    const handle: Handler = async (request, response) => {
      // the proxy's port under another host name (`localhost`) is another origin: a trap
      if (request.headers.host !== new URL(origin).host) return trap("https")(request, response)
      const method = (request.method ?? "GET").toUpperCase()
      const path = request.url ?? "/"
      const ruled = pick(method, path)
      const mutation = ruled === undefined ? chaos?.(method, path) : undefined
      const fault = ruled ?? mutation?.fault
      const body = await readAll(request)
      const status = await answer({
        method,
        path,
        incoming: request,
        response,
        forward: () => forward(request, body),
        origin
      }, fault)
      log.push({ method, path, status, fault: fault?._tag, mutation: mutation?.description })
    }

    const serverOptions = { cert: tls.certificatePem, key: tls.privateKeyPem }
    const port = yield* listen((handler) => Https.createServer(serverOptions, handler), handle)
    const httpsTrap = yield* listen((handler) => Https.createServer(serverOptions, handler), trap("https"))
    const httpTrap = yield* listen((handler) => Http.createServer(handler), trap("http"))
    origin = `https://127.0.0.1:${port}`
    traps = [`https://127.0.0.1:${httpsTrap}`, `https://localhost:${port}`, `http://127.0.0.1:${httpTrap}`]

    return {
      url: origin,
      directoryUrl: `${origin}${options.directoryPath ?? "/dir"}`,
      caBundle: tls.caPem,
      port,
      traps,
      inject: (rule) =>
        Effect.sync(() => {
          rules.push({ rule, remaining: rule.times ?? Number.POSITIVE_INFINITY })
        }),
      chaos: (chaosOptions) =>
        Effect.sync(() => {
          chaos = Chaos.make(chaosOptions, traps)
        }),
      clear: Effect.sync(() => {
        rules.length = 0
        chaos = undefined
      }),
      exchanges: Effect.sync(() => [...log]),
      trapped: Effect.sync(() => [...trapped])
    } satisfies Service
  })
