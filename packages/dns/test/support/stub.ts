/**
 * A local HTTP server standing in for a SaaS DNS API in tests: it records every request and answers
 * with what the test's handler returns. Listens on a free loopback port; closed with the scope.
 */
import { Effect } from "effect"
import * as Http from "node:http"

export interface StubRequest {
  readonly method: string
  /** path and query, as sent */
  readonly url: string
  readonly headers: Http.IncomingHttpHeaders
  readonly body: string
}

export interface StubAnswer {
  readonly status: number
  readonly body: string
  readonly contentType?: string
}

export const stubServer = (handler: (request: StubRequest) => StubAnswer) =>
  Effect.gen(function*() {
    const requests: Array<StubRequest> = []
    const server = yield* Effect.acquireRelease(
      Effect.async<Http.Server>((resume) => {
        const server = Http.createServer((req, res) => {
          const chunks: Array<Buffer> = []
          req.on("data", (chunk: Buffer) => chunks.push(chunk))
          req.on("end", () => {
            const request = {
              method: req.method ?? "",
              url: req.url ?? "",
              headers: req.headers,
              body: Buffer.concat(chunks).toString("utf8")
            }
            requests.push(request)
            const answer = handler(request)
            res.writeHead(answer.status, { "content-type": answer.contentType ?? "application/json" })
            res.end(answer.body)
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
    return { url: `http://127.0.0.1:${port}`, requests }
  })
