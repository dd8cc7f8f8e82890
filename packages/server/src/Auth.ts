/**
 * Authentication of API requests: the key comes in `Authorization: Bearer <key>` or
 * `X-API-Key: <key>` (the status page also takes it from its session cookie), is looked up by hash,
 * and must be of a scope that allows the method (`read`: GET and HEAD; `write`: everything). Wrong
 * keys count against the caller's address (`AuthThrottle`).
 *
 * @since 0.1.0
 */
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { Authentication, type Caller } from "./Api.js"
import * as ApiKeys from "./ApiKeys.js"
import { AuthThrottle } from "./AuthThrottle.js"
import { Current } from "./Environment.js"
import * as Problem from "./Problem.js"

/**
 * The cookie the status page keeps the key in.
 *
 * @since 0.1.0
 * @category constants
 */
export const sessionCookie = "acme_session"

/**
 * The key a request presents, if any.
 *
 * @since 0.1.0
 * @category combinators
 */
export const presentedKey = (
  request: HttpServerRequest.HttpServerRequest,
  options: { readonly cookie?: boolean | undefined } = {}
): Option.Option<Redacted.Redacted<string>> => {
  const authorization = /^Bearer\s+(\S+)\s*$/i.exec(request.headers["authorization"] ?? "")?.[1]
  const header = request.headers["x-api-key"]?.trim()
  const cookie = options.cookie === true ? request.cookies[sessionCookie] : undefined
  const key = authorization ?? (header !== undefined && header.length > 0 ? header : undefined) ??
    (cookie !== undefined && cookie.length > 0 ? cookie : undefined)
  return Option.map(Option.fromNullable(key), Redacted.make)
}

/**
 * The caller's address, as the throttle counts it.
 *
 * @since 0.1.0
 * @category combinators
 */
export const address = (request: HttpServerRequest.HttpServerRequest): string =>
  Option.getOrElse(request.remoteAddress, () => "unknown")

/**
 * Authenticates `key` for a `scope`, counting a wrong key against `from`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const authenticate = (
  key: Option.Option<Redacted.Redacted<string>>,
  options: { readonly scope: "read" | "write"; readonly from: string }
): Effect.Effect<Caller["Type"], Problem.Problem, Current | AuthThrottle> =>
  Effect.gen(function*() {
    const throttle = yield* AuthThrottle
    yield* throttle.check(options.from)
    if (Option.isNone(key)) {
      return yield* Problem.make(
        401,
        "no API key: send it as Authorization: Bearer <key> or X-API-Key: <key> (acme apikey create makes one)"
      )
    }
    const records = (yield* Effect.flatMap(Current, (current) => current.get)).records
    const verdict = yield* ApiKeys.verify(records, key.value).pipe(
      Effect.catchAll((error) =>
        Effect.zipRight(
          Effect.logError(`cannot read the API keys: ${error.message}`),
          Problem.make(500, "the API keys cannot be read; see the server log")
        )
      )
    )
    if (verdict._tag !== "Valid") {
      yield* throttle.failure(options.from)
      return yield* Problem.make(
        401,
        verdict._tag === "Revoked"
          ? `the API key ${verdict.key.id} was revoked at ${verdict.key.revokedAt ?? "some point"}; use another key`
          : "the API key is not known; check it, or make one with acme apikey create"
      )
    }
    yield* throttle.success(options.from)
    if (options.scope === "write" && verdict.key.scope !== "write") {
      return yield* Problem.make(
        403,
        `the API key ${verdict.key.id} may only read; this needs a write key (acme apikey create --scope write)`
      )
    }
    return { id: verdict.key.id, scope: verdict.key.scope }
  })

/**
 * The scope a method needs.
 *
 * @since 0.1.0
 * @category combinators
 */
export const scopeFor = (method: string): "read" | "write" => method === "GET" || method === "HEAD" ? "read" : "write"

/**
 * The `Authentication` middleware of the API.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Authentication, never, Current | AuthThrottle> = Layer.effect(
  Authentication,
  Effect.map(Effect.context<Current | AuthThrottle>(), (context) =>
    Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
      authenticate(presentedKey(request), { scope: scopeFor(request.method), from: address(request) }).pipe(
        Effect.provide(context)
      )))
)
