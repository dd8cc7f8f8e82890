/**
 * An HttpClient that trusts the CA Pebble's HTTPS certificate was signed with, for talking to a
 * {@link Pebble.Pebble} started by this package (directory, nonces, orders, management interface).
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Agent } from "undici"
import * as Pebble from "./Pebble.js"

/**
 * undici (`NodeHttpClient.layerUndiciWithoutDispatcher`) with an `Agent` whose only trusted CA is
 * `Pebble.caBundle`; the agent is closed with the layer's scope.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<HttpClient.HttpClient, never, Pebble.Pebble> = NodeHttpClient
  .layerUndiciWithoutDispatcher.pipe(
    Layer.provide(
      Layer.scoped(
        NodeHttpClient.Dispatcher,
        Effect.flatMap(Pebble.Pebble, (pebble) =>
          Effect.acquireRelease(
            Effect.sync(() => new Agent({ connect: { ca: pebble.caBundle } })),
            (agent) => Effect.promise(() => agent.destroy())
          ))
      )
    )
  )

/**
 * The same layer under the name the integration tests know it by.
 *
 * @since 0.1.0
 * @category layers
 */
export const httpClient: Layer.Layer<HttpClient.HttpClient, never, Pebble.Pebble> = layer
