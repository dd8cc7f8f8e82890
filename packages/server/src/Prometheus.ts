/**
 * `/metrics`: every Effect `Metric` of the process (the server's, the SDK's `CaMetrics`) in the
 * Prometheus text format, through `@effect/opentelemetry`'s metric producer and the OpenTelemetry
 * Prometheus exporter (which serves nothing itself here: the server's own route asks it).
 *
 * @since 0.1.0
 */
import * as Metrics from "@effect/opentelemetry/Metrics"
import * as Resource from "@effect/opentelemetry/Resource"
import { PrometheusExporter, PrometheusSerializer } from "@opentelemetry/exporter-prometheus"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { updateProcess } from "./Metrics.js"

/**
 * The content type of the text format.
 *
 * @since 0.1.0
 * @category constants
 */
export const contentType = "text/plain; version=0.0.4; charset=utf-8"

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** the metrics now, as Prometheus text */
  readonly render: Effect.Effect<string>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Prometheus extends Context.Tag("@acme/server/Prometheus")<Prometheus, Service>() {}

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Prometheus> = Layer.unwrapEffect(Effect.sync(() => {
  const exporter = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true, withoutTargetInfo: true })
  const serializer = new PrometheusSerializer(undefined, false, undefined, true, true)
  const service: Service = {
    render: Effect.zipRight(
      updateProcess,
      Effect.map(Effect.promise(() => exporter.collect()), ({ resourceMetrics }) => serializer.serialize(resourceMetrics))
    )
  }
  return Layer.succeed(Prometheus, service).pipe(
    Layer.provideMerge(Metrics.layer(() => exporter)),
    Layer.provide(Resource.layer({ serviceName: "acme" }))
  )
}))
