/**
 * The HTTP client the SDK talks to a CA through, on Node: undici, trusting the system's roots plus
 * any extra PEM roots (a private CA, or Pebble in tests).
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as tls from "node:tls"
import { Agent } from "undici"

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
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<HttpClient.HttpClient> => {
  const extra = options.trust ?? []
  if (extra.length === 0) return NodeHttpClient.layerUndici
  const dispatcher = Layer.scoped(
    NodeHttpClient.Dispatcher,
    Effect.acquireRelease(
      Effect.sync(() =>
        new Agent({
          // one secure context for every connection: given `ca` instead, each new TLS connection
          // would parse the ~140 system roots again (tens of milliseconds of CPU each time)
          connect: { secureContext: tls.createSecureContext({ ca: [...tls.rootCertificates, ...extra] }) }
        })
      ),
      (agent) => Effect.promise(() => agent.destroy())
    )
  )
  return NodeHttpClient.layerUndiciWithoutDispatcher.pipe(Layer.provide(dispatcher))
}
