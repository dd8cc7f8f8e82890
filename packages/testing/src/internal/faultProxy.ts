/**
 * The fault proxy's HTTPS server: forwards to the upstream, rewrites its origin to the proxy's,
 * and spoils the answers the rules pick.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type * as Http from "node:http"
import * as Https from "node:https"
import type * as Net from "node:net"
import { PebbleError } from "../PebbleError.js"
import { generateTlsMaterial } from "./certificates.js"

/**
 * What happens to a request a rule picks:
 *
 * - `Drop`: forwarded; the status, the headers (with the full `Content-Length`) and half the body
 *   are sent, then the connection is destroyed (a HEAD gets no answer at all).
 * - `Status`: not forwarded; answered with `status`, an optional `Retry-After`, and a problem
 *   document (`serverInternal`) unless `body` says otherwise.
 * - `MalformedJson`: forwarded; the body is cut in half (a complete HTTP answer with a broken body).
 * - `WrongContentType`: forwarded; the body is kept and `Content-Type` is replaced (`text/html`).
 * - `Oversized`: forwarded; the body is padded with spaces (still valid JSON) to `bytes`, sent
 *   chunked unless `declareLength`.
 * - `Redirect`: not forwarded; answered with `status` (301) and `Location` set to the same path on
 *   `http://` (or `location`).
 *
 * @since 0.1.0
 * @category models
 */
export type Fault =
  | { readonly _tag: "Drop" }
  | {
    readonly _tag: "Status"
    readonly status: number
    readonly retryAfter?: number | string | undefined
    readonly body?: string | undefined
    readonly contentType?: string | undefined
  }
  | { readonly _tag: "MalformedJson" }
  | { readonly _tag: "WrongContentType"; readonly contentType: string }
  | { readonly _tag: "Oversized"; readonly bytes: number; readonly declareLength: boolean }
  | { readonly _tag: "Redirect"; readonly status: number; readonly location?: string | undefined }

/**
 * Which requests get a fault: those with `method` (any when omitted) whose path starts with `path`
 * (a string) or matches it (a RegExp), for the next `times` of them, or `percent` of them
 * (both: `percent` of them until `times` were faulted). Neither: every matching request.
 *
 * @since 0.1.0
 * @category models
 */
export interface Rule {
  readonly method?: string | undefined
  readonly path: string | RegExp
  readonly times?: number | undefined
  readonly percent?: number | undefined
  readonly fault: Fault
}

/**
 * One request that went through the proxy: the status the client got (0 for a HEAD dropped
 * before its answer) and the fault applied, if any.
 *
 * @since 0.1.0
 * @category models
 */
export interface Exchange {
  readonly method: string
  readonly path: string
  readonly status: number
  readonly fault: Fault["_tag"] | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** `https://127.0.0.1:<port>` */
  readonly url: string
  /** Pebble's directory through the proxy */
  readonly directoryUrl: string
  /** PEM of the CA that signed the proxy's certificate: what a client must trust */
  readonly caBundle: string
  readonly port: number
  /** adds a rule; rules are tried in the order they were added, the first that matches applies */
  readonly inject: (rule: Rule) => Effect.Effect<void>
  /** removes every rule */
  readonly clear: Effect.Effect<void>
  /** every request so far, oldest first */
  readonly exchanges: Effect.Effect<ReadonlyArray<Exchange>>
}

/** @internal */
export interface MakeOptions {
  readonly upstream: string
  readonly upstreamCa: string
  /** the directory's path at the upstream (default `/dir`) */
  readonly directoryPath?: string | undefined
}

interface Upstream {
  readonly status: number
  readonly headers: Http.IncomingHttpHeaders
  readonly body: Buffer
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
    let origin = ""

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
          readAll(response).then(
            (data) => resolve({ status: response.statusCode ?? 502, headers: response.headers, body: data }),
            reject
          )
        })
        outgoing.on("error", reject)
        outgoing.end(body)
      })

    /** the upstream's origin, wherever it shows, becomes the proxy's */
    const rewrite = (text: string) => text.split(upstream.origin).join(origin)

    const send = (
      response: Http.ServerResponse,
      answer: Upstream,
      options: { readonly contentType?: string; readonly length?: boolean } = {}
    ) => {
      const headers: Http.OutgoingHttpHeaders = {}
      for (const [name, value] of Object.entries(answer.headers)) {
        if (value === undefined || hopByHop.has(name)) continue
        headers[name] = Array.isArray(value) ? value.map(rewrite) : rewrite(value)
      }
      if (options.contentType !== undefined) headers["content-type"] = options.contentType
      if (options.length ?? true) headers["content-length"] = answer.body.length
      response.writeHead(answer.status, headers)
      return headers
    }

    const handle = async (request: Http.IncomingMessage, response: Http.ServerResponse) => {
      const method = (request.method ?? "GET").toUpperCase()
      const path = request.url ?? "/"
      const fault = pick(method, path)
      const record = (code: number) => log.push({ method, path, status: code, fault: fault?._tag })
      const body = await readAll(request)

      if (fault?._tag === "Status") {
        const text = fault.body ??
          JSON.stringify({
            type: "urn:ietf:params:acme:error:serverInternal",
            detail: `injected HTTP ${fault.status} by @acme/testing FaultProxy`
          })
        response.writeHead(fault.status, {
          "content-type": fault.contentType ?? "application/problem+json",
          "content-length": Buffer.byteLength(text),
          ...(fault.retryAfter !== undefined ? { "retry-after": String(fault.retryAfter) } : {})
        })
        response.end(method === "HEAD" ? undefined : text)
        return record(fault.status)
      }
      if (fault?._tag === "Redirect") {
        const location = fault.location ?? `http://${request.headers.host ?? upstream.host}${path}`
        response.writeHead(fault.status, { location, "content-length": 0 })
        response.end()
        return record(fault.status)
      }
      if (fault?._tag === "Drop" && method === "HEAD") {
        record(0)
        return request.socket.destroy()
      }

      const answer = await forward(request, body)
      const text = answer.body.toString("utf8")
      const isText = !/pem|octet|der/.test(String(answer.headers["content-type"] ?? ""))
      const rewritten: Upstream = isText && text.includes(upstream.origin)
        ? { ...answer, body: Buffer.from(rewrite(text)) }
        : answer
      record(rewritten.status)

      switch (fault?._tag) {
        case undefined:
          send(response, rewritten)
          return response.end(method === "HEAD" ? undefined : rewritten.body)
        case "Drop": {
          send(response, rewritten)
          const half = rewritten.body.subarray(0, Math.floor(rewritten.body.length / 2))
          // flush half the body, then cut the connection under the client's feet
          return response.write(half, () => request.socket.destroy())
        }
        case "MalformedJson": {
          const cut = rewritten.body.length > 1
            ? rewritten.body.subarray(0, Math.floor(rewritten.body.length / 2))
            : Buffer.from("{\"status\": ")
          send(response, { ...rewritten, body: cut })
          return response.end(cut)
        }
        case "WrongContentType":
          send(response, rewritten, { contentType: fault.contentType })
          return response.end(rewritten.body)
        case "Oversized": {
          const padding = Math.max(0, fault.bytes - rewritten.body.length)
          const padded = Buffer.concat([rewritten.body, Buffer.alloc(padding, 0x20)])
          send(response, { ...rewritten, body: padded }, { length: fault.declareLength })
          // the client gives up part way: what it does not read is lost, not an error here
          return response.end(padded)
        }
      }
    }

    const server = yield* Effect.acquireRelease(
      Effect.async<Https.Server, PebbleError>((resume) => {
        const server = Https.createServer({ cert: tls.certificatePem, key: tls.privateKeyPem }, (request, response) => {
          response.on("error", () => {})
          handle(request, response).catch((error: unknown) => {
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
    )
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    origin = `https://127.0.0.1:${port}`

    return {
      url: origin,
      directoryUrl: `${origin}${options.directoryPath ?? "/dir"}`,
      caBundle: tls.caPem,
      port,
      inject: (rule) =>
        Effect.sync(() => {
          rules.push({ rule, remaining: rule.times ?? Number.POSITIVE_INFINITY })
        }),
      clear: Effect.sync(() => {
        rules.length = 0
      }),
      exchanges: Effect.sync(() => [...log])
    } satisfies Service
  })
