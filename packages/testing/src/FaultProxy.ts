/**
 * A fault-injecting HTTPS proxy in front of the harness's Pebble: it terminates TLS with its own
 * throw-away certificate (trust `caBundle`), forwards every request to Pebble over HTTPS, and spoils
 * the answers to the requests a rule picks: a connection dropped in the middle of the body, a
 * 500/503 with `Retry-After`, malformed JSON, a wrong `Content-Type`, an oversized body, a redirect
 * to an `http://` URL.
 *
 * The `Host` header is passed on unchanged, so Pebble builds every URL it hands out (directory,
 * `Location`, `Link`, order and authorization URLs) with the proxy's address, and JWS `url` checks
 * hold; any URL with Pebble's own origin in a header or body is rewritten to the proxy's origin as
 * well. Every request of a client pointed at `directoryUrl` therefore goes through the proxy.
 *
 * ```ts
 * const Test = FaultProxy.layer.pipe(Layer.provideMerge(Pebble.layer()))
 *
 * const proxy = yield* FaultProxy.FaultProxy
 * // the next two newOrder requests get 503 with Retry-After: 1, then Pebble answers again
 * yield* proxy.inject({ method: "POST", path: "/order-plz", times: 2, fault: FaultProxy.status(503, { retryAfter: 1 }) })
 * // a client that trusts proxy.caBundle and uses proxy.directoryUrl
 * ```
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { Agent } from "undici"
import * as internal from "./internal/faultProxy.js"
import type { Fault, Service } from "./internal/faultProxy.js"
import * as Pebble from "./Pebble.js"
import type { PebbleError } from "./PebbleError.js"

export type { Exchange, Fault, Rule, Service } from "./internal/faultProxy.js"

/**
 * @since 0.1.0
 * @category constructors
 */
export const drop: Fault = { _tag: "Drop" }

/**
 * @since 0.1.0
 * @category constructors
 */
export const status = (
  code: number,
  options: {
    readonly retryAfter?: number | string | undefined
    readonly body?: string | undefined
    readonly contentType?: string | undefined
  } = {}
): Fault => ({ _tag: "Status", status: code, ...options })

/**
 * @since 0.1.0
 * @category constructors
 */
export const malformedJson: Fault = { _tag: "MalformedJson" }

/**
 * @since 0.1.0
 * @category constructors
 */
export const wrongContentType = (contentType = "text/html; charset=utf-8"): Fault => ({
  _tag: "WrongContentType",
  contentType
})

/**
 * @since 0.1.0
 * @category constructors
 */
export const oversized = (options: { readonly bytes?: number; readonly declareLength?: boolean } = {}): Fault => ({
  _tag: "Oversized",
  bytes: options.bytes ?? 2 * 1024 * 1024,
  declareLength: options.declareLength ?? false
})

/**
 * @since 0.1.0
 * @category constructors
 */
export const redirect = (options: { readonly status?: number; readonly location?: string } = {}): Fault => ({
  _tag: "Redirect",
  status: options.status ?? 301,
  location: options.location
})

/**
 * @since 0.1.0
 * @category tags
 */
export class FaultProxy extends Context.Tag("@acme/testing/FaultProxy")<FaultProxy, Service>() {}

/**
 * A proxy in front of `upstream` (an `https://host:port` origin whose certificate `upstreamCa`
 * signed); it stops when the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options: {
  readonly upstream: string
  readonly upstreamCa: string
  /** the directory's path at the upstream (default `/dir`) */
  readonly directoryPath?: string | undefined
}) => Effect.Effect<Service, PebbleError, Scope.Scope> = (options) => Effect.map(internal.make(options), FaultProxy.of)

/**
 * A proxy in front of the {@link Pebble.Pebble} in context (its directory URL's origin and path).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<FaultProxy, PebbleError, Pebble.Pebble> = Layer.scoped(
  FaultProxy,
  Effect.flatMap(Pebble.Pebble, (pebble) => {
    const directory = new URL(pebble.directoryUrl)
    return make({ upstream: directory.origin, upstreamCa: pebble.caBundle, directoryPath: directory.pathname })
  })
)

/**
 * An HttpClient (undici) whose only trusted CA is the proxy's `caBundle`: what a client under test
 * talks to the proxy with. The agent is closed with the layer's scope.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerHttpClient: Layer.Layer<HttpClient.HttpClient, never, FaultProxy> = NodeHttpClient
  .layerUndiciWithoutDispatcher.pipe(
    Layer.provide(
      Layer.scoped(
        NodeHttpClient.Dispatcher,
        Effect.flatMap(FaultProxy, (proxy) =>
          Effect.acquireRelease(
            Effect.sync(() => new Agent({ connect: { ca: proxy.caBundle } })),
            (agent) => Effect.promise(() => agent.destroy())
          ))
      )
    )
  )
