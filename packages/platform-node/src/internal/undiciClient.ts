/**
 * The undici client behind `NodeAcmeHttpClient`, in a module of its own so that it (and undici,
 * about 0.7 MB of JavaScript) is loaded only when the first request is made.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as tls from "node:tls"
import { Agent } from "undici"

/** An `HttpClient` over undici whose TLS trust is the system's roots plus `extra`. */
export const layer = (extra: ReadonlyArray<string>): Layer.Layer<HttpClient.HttpClient> => {
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
