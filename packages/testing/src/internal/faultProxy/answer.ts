/**
 * How the fault proxy answers one request: forwarded as it is, or spoiled by a {@link Fault}.
 */
import type * as Http from "node:http"
import type { AnswerHeaders, Fault } from "./model.js"

/** @internal */
export interface Upstream {
  readonly status: number
  readonly headers: AnswerHeaders
  readonly body: Buffer
}

/** @internal */
export interface Request {
  readonly method: string
  readonly path: string
  readonly incoming: Http.IncomingMessage
  readonly response: Http.ServerResponse
  /** the upstream's answer, with the upstream's origin rewritten to the proxy's */
  readonly forward: () => Promise<Upstream>
  /** the proxy's own origin, as the client was told it */
  readonly origin: string
}

const isText = (headers: AnswerHeaders): boolean => !/pem|octet|der/.test(String(headers["content-type"] ?? ""))

/** The answer with `from` replaced by `to` in every header and (a text) body. */
export const replaceOrigin = (answer: Upstream, from: string, to: string): Upstream => {
  const swap = (text: string) => text.split(from).join(to)
  const headers: AnswerHeaders = {}
  for (const [name, value] of Object.entries(answer.headers)) {
    headers[name] = typeof value === "string" ? swap(value) : value.map(swap)
  }
  const text = answer.body.toString("utf8")
  const body = isText(answer.headers) && text.includes(from) ? Buffer.from(swap(text)) : answer.body
  return { ...answer, headers, body }
}

const writeHead = (
  response: Http.ServerResponse,
  status: number,
  headers: AnswerHeaders,
  options: { readonly length?: number | undefined } = {}
) => {
  const outgoing: Http.OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) outgoing[name] = typeof value === "string" ? value : [...value]
  if (options.length !== undefined) outgoing["content-length"] = options.length
  response.writeHead(status, outgoing)
}

/** Sends an answer whole: its status, its headers with the body's length, its body (none for HEAD). */
const send = (request: Request, answer: Upstream, headers: AnswerHeaders = answer.headers): number => {
  writeHead(request.response, answer.status, headers, { length: answer.body.length })
  request.response.end(request.method === "HEAD" ? undefined : answer.body)
  return answer.status
}

const sleep = (millis: number) => new Promise<void>((resolve) => setTimeout(resolve, millis))

const problemBody = (status: number) =>
  JSON.stringify({
    type: "urn:ietf:params:acme:error:serverInternal",
    detail: `injected HTTP ${status} by @acme/testing FaultProxy`
  })

const editedJson = (body: Buffer, edit: (body: unknown) => unknown): Buffer => {
  const text = body.toString("utf8")
  let parsed: unknown = text
  try {
    parsed = JSON.parse(text)
  } catch {
    // not JSON: the edit gets the text
  }
  const edited = edit(parsed)
  return Buffer.from(typeof edited === "string" ? edited : JSON.stringify(edited) ?? "")
}

/**
 * Answers the request as `fault` says (forwarded as it is when there is none); the status the client
 * got, 0 when the connection was destroyed before an answer.
 *
 * @internal
 */
export const answer = async (request: Request, fault: Fault | undefined): Promise<number> => {
  const { method, response } = request
  const socket = request.incoming.socket
  switch (fault?._tag) {
    case undefined:
      return send(request, await request.forward())
    case "Status": {
      const text = fault.body ?? problemBody(fault.status)
      response.writeHead(fault.status, {
        "content-type": fault.contentType ?? "application/problem+json",
        "content-length": Buffer.byteLength(text),
        ...(fault.retryAfter !== undefined ? { "retry-after": String(fault.retryAfter) } : {})
      })
      response.end(method === "HEAD" ? undefined : text)
      return fault.status
    }
    case "Redirect": {
      const location = fault.location ?? `http://${request.incoming.headers.host ?? ""}${request.path}`
      response.writeHead(fault.status, { location, "content-length": 0 })
      response.end()
      return fault.status
    }
    case "Reset":
      if (fault.forward) await request.forward()
      socket.destroy()
      return 0
    case "Delay":
      await sleep(fault.millis)
      return answer(request, fault.then)
    case "Drop": {
      if (method === "HEAD") {
        socket.destroy()
        return 0
      }
      const upstream = await request.forward()
      writeHead(response, upstream.status, upstream.headers, { length: upstream.body.length })
      // flush half the body, then cut the connection under the client's feet
      response.write(upstream.body.subarray(0, Math.floor(upstream.body.length / 2)), () => socket.destroy())
      return upstream.status
    }
    case "EditStatus":
      return send(request, { ...(await request.forward()), status: fault.status })
    case "MalformedJson": {
      const upstream = await request.forward()
      const cut = upstream.body.length > 1
        ? upstream.body.subarray(0, Math.floor(upstream.body.length / 2))
        : Buffer.from("{\"status\": ")
      return send(request, { ...upstream, body: cut })
    }
    case "WrongContentType": {
      const upstream = await request.forward()
      return send(request, upstream, { ...upstream.headers, "content-type": fault.contentType })
    }
    case "Oversized": {
      const upstream = await request.forward()
      const padded = Buffer.concat([upstream.body, Buffer.alloc(Math.max(0, fault.bytes - upstream.body.length), 0x20)])
      writeHead(response, upstream.status, upstream.headers, { length: fault.declareLength ? padded.length : undefined })
      // the client gives up part way: what it does not read is lost, not an error here
      response.end(padded)
      return upstream.status
    }
    case "EditJson": {
      const upstream = await request.forward()
      return send(request, { ...upstream, body: editedJson(upstream.body, fault.edit) })
    }
    case "EditHeaders": {
      const upstream = await request.forward()
      const headers = fault.edit({ ...upstream.headers, "content-length": String(upstream.body.length) })
      writeHead(response, upstream.status, headers)
      response.end(method === "HEAD" ? undefined : upstream.body)
      return upstream.status
    }
    case "ReplaceBody":
      return send(request, { ...(await request.forward()), body: Buffer.from(fault.body) })
    case "RewriteOrigin":
      return send(request, replaceOrigin(await request.forward(), request.origin, fault.origin))
  }
}
