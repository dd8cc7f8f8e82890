/**
 * The HTTP client the SDK talks to a CA through, on Node: undici, trusting the system's roots plus
 * any extra PEM roots (a private CA, or Pebble in tests).
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** PEM certificates to trust for the CA's own TLS, in addition to the system's roots */
  readonly trust?: ReadonlyArray<string> | undefined
}

/**
 * An `HttpClient` over undici whose TLS trust is the system's roots plus `trust`. Connections are
 * kept alive between requests, and the TLS trust store is built once for all of them. The dispatcher
 * is closed when the layer's scope closes.
 *
 * undici and the TLS trust store are loaded and built when the first request is made, not when the
 * layer is built: a command that ends up asking nothing of the CA (`acme renew` with nothing due and
 * no renewal info to ask for) never evaluates undici's 0.7 MB of JavaScript. The client then hands
 * each request to undici's as it is (its spans, headers and errors are undici's client's own).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<HttpClient.HttpClient> =>
  Layer.scoped(
    HttpClient.HttpClient,
    Effect.gen(function*() {
      const scope = yield* Effect.scope
      const extra = options.trust ?? []
      const client = yield* Effect.cached(
        Effect.promise(() => import("./internal/undiciClient.js")).pipe(
          // built into this layer's scope: the dispatcher is closed when the layer's scope closes
          Effect.flatMap((undici) => Layer.buildWithScope(undici.layer(extra), scope)),
          Effect.map((context) => Context.get(context, HttpClient.HttpClient)),
          // built once, whole: a first request interrupted meanwhile does not leave it half made
          Effect.uninterruptible
        )
      )
      return HttpClient.makeWith(
        (request: Effect.Effect<HttpClientRequest.HttpClientRequest>) =>
          Effect.flatMap(client, (undici) => Effect.flatMap(request, undici.execute)),
        Effect.succeed
      )
    })
  )
