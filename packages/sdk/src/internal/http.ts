/**
 * One HTTP exchange with the CA: send, read a bounded body, check the answer's shape, decode
 * problem documents. Every exchange is a span with its method, URL, status and problem type.
 */
import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import {
  fromProblem,
  InvalidResponse,
  type ProblemError,
  ServerError,
  Subproblem,
  TransportError
} from "../AcmeError.js"
import { isNonce, type Nonce } from "../Nonce.js"

/** @internal */
export type Method = "GET" | "HEAD" | "POST"

/** @internal */
export interface Exchange {
  readonly method: Method
  readonly url: string
  readonly status: number
  readonly headers: Headers.Headers
  readonly body: Uint8Array
}

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

const textDecoder = new TextDecoder()

/** @internal */
export const bodyText = (exchange: Exchange): string => textDecoder.decode(exchange.body)

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

/**
 * The `Replay-Nonce` of a response, when it has a well-formed one.
 *
 * @internal
 */
export const replayNonce = (exchange: Exchange): Nonce | undefined =>
  Option.getOrUndefined(Option.filter(Headers.get(exchange.headers, "replay-nonce"), isNonce))

/**
 * `Retry-After` as a duration from now: delta-seconds or an HTTP-date (RFC 9110 §10.2.3).
 *
 * @internal
 */
export const retryAfter = (headers: Headers.Headers): Effect.Effect<Duration.Duration | undefined> =>
  Option.match(Headers.get(headers, "retry-after"), {
    onNone: () => Effect.succeed(undefined),
    onSome: (value) => Effect.map(Clock.currentTimeMillis, (now) => parseRetryAfter(value, now))
  })

/** @internal */
export const parseRetryAfter = (value: string, nowMillis: number): Duration.Duration | undefined => {
  const text = value.trim()
  if (/^\d+$/.test(text)) return Duration.seconds(Number(text))
  const at = Date.parse(text)
  if (Number.isNaN(at)) return undefined
  return Duration.millis(Math.max(0, at - nowMillis))
}

/**
 * The targets of `Link` headers with the given relation, resolved against the request URL
 * (RFC 8288). Handles several links in one header and several headers joined by commas.
 *
 * @internal
 */
export const links = (exchange: Exchange, rel: string): ReadonlyArray<string> => {
  const header = Option.getOrElse(Headers.get(exchange.headers, "link"), () => "")
  const found: Array<string> = []
  const pattern = /<([^>]*)>((?:\s*;\s*[^;,=]+(?:=(?:"[^"]*"|[^;,]*))?)*)/g
  for (const match of header.matchAll(pattern)) {
    const target = match[1] ?? ""
    const params = match[2] ?? ""
    const rels = /;\s*rel\s*=\s*(?:"([^"]*)"|([^;,\s]*))/i.exec(params)
    const relValue = rels ? (rels[1] ?? rels[2] ?? "") : ""
    if (relValue.split(/\s+/).includes(rel) && URL.canParse(target, exchange.url)) {
      found.push(new URL(target, exchange.url).href)
    }
  }
  return found
}

/** @internal */
export const location = (exchange: Exchange): string | undefined =>
  Option.getOrUndefined(
    Option.map(
      Option.filter(Headers.get(exchange.headers, "location"), (value) => URL.canParse(value, exchange.url)),
      (value) => new URL(value, exchange.url).href
    )
  )

const ProblemDocument = Schema.Struct({
  type: Schema.optionalWith(Schema.String, { default: () => "about:blank" }),
  detail: Schema.optional(Schema.String),
  instance: Schema.optional(Schema.String),
  subproblems: Schema.optional(Schema.Array(Subproblem)),
  algorithms: Schema.optional(Schema.Array(Schema.String))
})

const decodeProblemDocument = Schema.decodeUnknownEither(Schema.parseJson(ProblemDocument))

/** The problem type of an error response, for its span; "undecodable" when the body is not one. */
const problemType = (exchange: Exchange): string => {
  const decoded = decodeProblemDocument(bodyText(exchange))
  return decoded._tag === "Right" ? decoded.right.type : "undecodable"
}

/**
 * Turns an error response into the matching tagged error. A 5xx without a problem document is a
 * server error; a 4xx whose body is not a problem document is an invalid response.
 *
 * @internal
 */
export const problem = (exchange: Exchange): Effect.Effect<ProblemError | InvalidResponse> =>
  Effect.gen(function*() {
    const delay = yield* retryAfter(exchange.headers)
    const nonce = replayNonce(exchange)
    const text = bodyText(exchange)
    const decoded = decodeProblemDocument(text)
    const common = {
      status: exchange.status,
      method: exchange.method,
      url: exchange.url,
      retryAfter: delay,
      nonce
    }
    const error = decoded._tag === "Right"
      ? fromProblem({ ...common, ...decoded.right })
      : exchange.status >= 500
      ? new ServerError({
        ...common,
        type: "about:blank",
        detail: `HTTP ${exchange.status} without a problem document`
      })
      : new InvalidResponse({
        reason: "UndecodableBody",
        method: exchange.method,
        url: exchange.url,
        status: exchange.status,
        description: `the error response is not a JSON problem document (${
          ParseResult.TreeFormatter.formatErrorSync(decoded.left).split("\n")[0]
        }): ${JSON.stringify(text.slice(0, 120))}`
      })
    return error
  })

/**
 * Decodes a JSON body with a schema; a body that does not fit is an invalid response that says
 * which field was wrong.
 *
 * @internal
 */
export const decodeJson = <A, I>(
  exchange: Exchange,
  schema: Schema.Schema<A, I>,
  reason: "UndecodableBody" | "MalformedDirectory" = "UndecodableBody"
): Effect.Effect<A, InvalidResponse> => {
  const contentType = Option.getOrUndefined(Headers.get(exchange.headers, "content-type"))
  if (contentType !== undefined && !isJsonMediaType(contentType)) {
    return Effect.fail(
      new InvalidResponse({
        reason,
        method: exchange.method,
        url: exchange.url,
        status: exchange.status,
        description: `the answer is ${contentType}, not JSON (application/json): something other than the CA (a proxy, a captive portal, a web server) may be answering`
      })
    )
  }
  return Schema.decodeUnknown(Schema.parseJson(schema))(bodyText(exchange)).pipe(
    Effect.mapError((error) =>
      new InvalidResponse({
        reason,
        method: exchange.method,
        url: exchange.url,
        status: exchange.status,
        description: ParseResult.TreeFormatter.formatErrorSync(error).replace(/\s*\n\s*/g, " ")
      })
    )
  )
}

/**
 * `application/json` or a `+json` type (`application/problem+json`), parameters ignored.
 *
 * @internal
 */
export const isJsonMediaType = (contentType: string): boolean => {
  const type = (contentType.split(";")[0] ?? "").trim().toLowerCase()
  return type === "application/json" || /^application\/[a-z0-9.+-]+\+json$/.test(type)
}
