/**
 * What an answer of the CA says besides its status: the next nonce, `Retry-After`, `Link` and
 * `Location` headers, and a JSON body decoded with a schema.
 */
import * as Headers from "@effect/platform/Headers"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { InvalidResponse } from "../AcmeError.js"
import { isNonce, type Nonce } from "../Nonce.js"
import { bodyText, type Exchange } from "./exchange.js"

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
