/**
 * The transport to the CA: send one request, read a bounded body, refuse redirects and clear-text
 * links from an https CA. Every exchange is a span with its method, URL, status and problem type.
 */
import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { InvalidResponse, TransportError } from "../AcmeError.js"
import type { Exchange, Method } from "./exchange.js"
import { problemType } from "./problemDocument.js"

/** @internal */
export interface TransportOptions {
  readonly directoryUrl: string
  readonly requestTimeout: Duration.Duration
  readonly maxBodyBytes: number
  readonly userAgent: string
}

/** @internal */
export interface Transport {
  /** checks that a URL the CA handed out may be followed (https when the directory is https) */
  readonly checkUrl: (url: string, context: { readonly method: Method; readonly from: string }) => Effect.Effect<
    string,
    InvalidResponse
  >
  readonly send: (request: {
    readonly method: Method
    readonly url: string
    readonly body?: string | undefined
    readonly contentType?: string | undefined
    readonly accept?: string | undefined
    readonly operation: string
  }) => Effect.Effect<Exchange, TransportError | InvalidResponse>
}

const describeCause = (error: HttpClientError.HttpClientError): string => {
  const cause = error.cause
  const inner = cause instanceof Error && cause.cause instanceof Error ? `: ${cause.cause.message}` : ""
  return cause instanceof Error ? `${cause.message}${inner}` : error.message
}

/** @internal */
export const makeTransport = (client: HttpClient.HttpClient, options: TransportOptions): Transport => {
  const secureOnly = options.directoryUrl.startsWith("https:")
  const http = client.pipe(
    HttpClient.withTracerPropagation(false),
    HttpClient.withTracerDisabledWhen(() => true)
  )

  const checkUrl: Transport["checkUrl"] = (url, context) => {
    if (!URL.canParse(url)) {
      return Effect.fail(
        new InvalidResponse({
          reason: "UndecodableBody",
          method: context.method,
          url: context.from,
          description: `the CA sent "${url}", which is not a URL`
        })
      )
    }
    if (secureOnly && !url.startsWith("https:")) {
      return Effect.fail(
        new InvalidResponse({
          reason: "InsecureUrl",
          method: context.method,
          url: context.from,
          description: `the https CA pointed to ${url}, which is not https; refusing to send requests in clear text`
        })
      )
    }
    return Effect.succeed(url)
  }

  const readBody = (
    method: Method,
    url: string,
    status: number,
    headers: Headers.Headers,
    stream: Stream.Stream<Uint8Array, HttpClientError.ResponseError>
  ): Effect.Effect<Uint8Array, InvalidResponse> => {
    const tooLarge = (size: string) =>
      new InvalidResponse({
        reason: "BodyTooLarge",
        method,
        url,
        status,
        description: `the body is ${size}, more than the limit of ${options.maxBodyBytes} bytes`
      })
    const declared = Option.flatMap(Headers.get(headers, "content-length"), (text) => {
      const n = Number(text)
      return Number.isSafeInteger(n) && n >= 0 ? Option.some(n) : Option.none()
    })
    if (Option.isSome(declared) && declared.value > options.maxBodyBytes) {
      return Effect.fail(tooLarge(`${declared.value} bytes`))
    }
    return stream.pipe(
      Stream.mapError((error) =>
        new InvalidResponse({
          reason: "TruncatedBody",
          method,
          url,
          status,
          description: `the connection ended before the whole body arrived (${describeCause(error)})`
        })
      ),
      Stream.runFoldEffect(
        { parts: Chunk.empty<Uint8Array>(), size: 0 },
        (acc, chunk) =>
          acc.size + chunk.length > options.maxBodyBytes
            ? Effect.fail(tooLarge(`over ${options.maxBodyBytes} bytes`))
            : Effect.succeed({ parts: Chunk.append(acc.parts, chunk), size: acc.size + chunk.length })
      ),
      Effect.map(({ parts, size }) => {
        const body = new Uint8Array(size)
        let offset = 0
        for (const part of parts) {
          body.set(part, offset)
          offset += part.length
        }
        return body
      }),
      Effect.filterOrFail(
        (body) => Option.isNone(declared) || body.length === declared.value,
        (body) =>
          new InvalidResponse({
            reason: "TruncatedBody",
            method,
            url,
            status,
            description: `Content-Length announced ${Option.getOrElse(declared, () => 0)} bytes, ${body.length} arrived`
          })
      )
    )
  }

  const send: Transport["send"] = (request) => {
    const base = request.method === "GET"
      ? HttpClientRequest.get(request.url)
      : request.method === "HEAD"
      ? HttpClientRequest.head(request.url)
      : HttpClientRequest.post(request.url)
    const withBody = request.body !== undefined
      ? HttpClientRequest.bodyText(base, request.body, request.contentType ?? "application/jose+json")
      : base
    const httpRequest = withBody.pipe(
      HttpClientRequest.setHeader("user-agent", options.userAgent),
      HttpClientRequest.setHeader("accept", request.accept ?? "application/json")
    )
    return http.execute(httpRequest).pipe(
      Effect.mapError((error) =>
        new TransportError({
          reason: "Connect",
          method: request.method,
          url: request.url,
          description: describeCause(error)
        })
      ),
      Effect.flatMap((response) =>
        response.status >= 300 && response.status < 400
          ? Effect.fail(redirected(request.method, request.url, response.status, response.headers))
          : request.method === "HEAD"
          ? Effect.succeed<Exchange>({
            method: request.method,
            url: request.url,
            status: response.status,
            headers: response.headers,
            body: new Uint8Array()
          })
          : Effect.map(
            readBody(request.method, request.url, response.status, response.headers, response.stream),
            (body): Exchange => ({
              method: request.method,
              url: request.url,
              status: response.status,
              headers: response.headers,
              body
            })
          )
      ),
      Effect.timeoutFail({
        duration: options.requestTimeout,
        onTimeout: () =>
          new TransportError({
            reason: "Timeout",
            method: request.method,
            url: request.url,
            description: Duration.format(options.requestTimeout)
          })
      }),
      Effect.tap((exchange) =>
        Effect.annotateCurrentSpan({
          "http.response.status_code": exchange.status,
          ...(exchange.status >= 400 ? { "acme.problem.type": problemType(exchange) } : {})
        })
      ),
      Effect.withSpan(`AcmeProtocol.http ${request.method}`, {
        kind: "client",
        attributes: {
          "http.request.method": request.method,
          "url.full": request.url,
          "acme.operation": request.operation
        }
      })
    )
  }

  /**
   * ACME resources are never redirected (every URL comes from the directory or an answer), and an
   * undici client does not follow redirects: a 3xx is a misconfigured URL or a proxy in the way. It
   * is never followed, least of all to a clear-text URL.
   */
  const redirected = (method: Method, url: string, status: number, headers: Headers.Headers): InvalidResponse => {
    const target = Option.getOrUndefined(
      Option.filter(Headers.get(headers, "location"), (value) => URL.canParse(value, url))
    )
    const to = target === undefined ? "somewhere (no usable Location header)" : new URL(target, url).href
    const insecure = secureOnly && to.startsWith("http:")
    return new InvalidResponse({
      reason: insecure ? "InsecureUrl" : "UnexpectedStatus",
      method,
      url,
      status,
      description: `the CA redirected to ${to}${insecure ? ", which is not https" : ""}; redirects are not followed`
    })
  }

  return { checkUrl, send }
}
