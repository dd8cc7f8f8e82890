/**
 * A local HTTP server standing in for a third-party SaaS API in tests (an LLM vendor's API, a DNS
 * provider's API, a plugin's web hook), speaking its wire format: it listens on a free loopback
 * port, records every request (method, URL, headers, the body as text and as JSON) and answers
 * with what the test's handler returns. It is closed, with every connection (hanging ones too),
 * when the scope closes. Stubs are for SaaS APIs only: ACME tests talk to a real Pebble.
 *
 * ```ts
 * import { HttpStub } from "@acme/testing"
 *
 * const stub = yield* HttpStub.make(HttpStub.routes({
 *   "POST /update": (request) => ({ status: 200, json: { txt: HttpStub.record(request.json)["txt"] } })
 * }))
 * // point the client at stub.url; afterwards
 * const [first] = yield* stub.requests
 * ```
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"

/**
 * A request as the stub received it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Request {
  readonly method: string
  /** path and query, as sent */
  readonly url: string
  /** the path alone, without the query */
  readonly path: string
  readonly query: URLSearchParams
  readonly headers: Http.IncomingHttpHeaders
  /** the body as UTF-8 text ("" when there is none) */
  readonly text: string
  /** the body parsed as JSON; undefined when it is empty or not JSON */
  readonly json: unknown
}

/**
 * An answer: a JSON body (`content-type: application/json`), a text body (`contentType`, default
 * `text/plain; charset=utf-8`), or `"hang"`: no answer at all (for timeouts). `headers` are added.
 *
 * @since 0.1.0
 * @category models
 */
export type Reply =
  | { readonly status: number; readonly headers?: Readonly<Record<string, string>> | undefined; readonly json: unknown }
  | {
    readonly status: number
    readonly headers?: Readonly<Record<string, string>> | undefined
    readonly text: string
    readonly contentType?: string | undefined
  }
  | "hang"

/**
 * What answers: gets each request and its index (0 for the first), returns the reply or an Effect
 * of it (to call something else first).
 *
 * @since 0.1.0
 * @category models
 */
export type Handler = (request: Request, index: number) => Reply | Effect.Effect<Reply>

/**
 * @since 0.1.0
 * @category models
 */
export interface HttpStub {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  /** every request so far, oldest first */
  readonly requests: Effect.Effect<ReadonlyArray<Request>>
}

/**
 * A handler that picks by `"<METHOD> <path>"` (the path without the query), e.g. `"POST /update"`;
 * anything else gets `fallback`, by default 404 with `404 page not found`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const routes = (
  table: Readonly<Record<string, Handler>>,
  fallback: Handler = () => ({ status: 404, text: "404 page not found" })
): Handler =>
(request, index) => (table[`${request.method} ${request.path}`] ?? fallback)(request, index)

/**
 * A JSON value's members: an object as it is, anything else as no members (for reading a
 * request's `json` in a handler).
 *
 * @since 0.1.0
 * @category combinators
 */
export const record = (u: unknown): Readonly<Record<string, unknown>> =>
  typeof u === "object" && u !== null && !Array.isArray(u) ? Object.fromEntries(Object.entries(u)) : {}

const parseJson = (text: string): unknown => {
  if (text.length === 0) return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

const send = (response: Http.ServerResponse, reply: Reply) => {
  if (reply === "hang") return
  if ("json" in reply) {
    response.writeHead(reply.status, { "content-type": "application/json", ...reply.headers })
    response.end(JSON.stringify(reply.json))
  } else {
    response.writeHead(reply.status, { "content-type": reply.contentType ?? "text/plain; charset=utf-8", ...reply.headers })
    response.end(reply.text)
  }
}

/**
 * Starts a stub on a free loopback port; it is closed when the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (handler: Handler): Effect.Effect<HttpStub, never, Scope.Scope> =>
  Effect.gen(function*() {
    const runFork = Runtime.runFork(yield* Effect.runtime<never>())
    const requests: Array<Request> = []
    const server = yield* Effect.acquireRelease(
      Effect.async<Http.Server>((resume) => {
        const server = Http.createServer((incoming, response) => {
          const chunks: Array<Buffer> = []
          incoming.on("data", (chunk: Buffer) => chunks.push(chunk))
          incoming.on("end", () => {
            const url = incoming.url ?? "/"
            const parsed = new URL(url, "http://stub")
            const text = Buffer.concat(chunks).toString("utf8")
            const request: Request = {
              method: incoming.method ?? "",
              url,
              path: parsed.pathname,
              query: parsed.searchParams,
              headers: incoming.headers,
              text,
              json: parseJson(text)
            }
            const index = requests.push(request) - 1
            const reply = handler(request, index)
            if (!Effect.isEffect(reply)) return send(response, reply)
            runFork(reply.pipe(
              Effect.tap((reply) => Effect.sync(() => send(response, reply))),
              Effect.catchAllCause((cause) => Effect.sync(() => send(response, { status: 500, text: String(cause) })))
            ))
          })
        })
        server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
      }),
      (server) =>
        Effect.async<void>((resume) => {
          server.close(() => resume(Effect.void))
          server.closeAllConnections()
        })
    )
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    return { url: `http://127.0.0.1:${port}`, requests: Effect.sync(() => [...requests]) }
  })
