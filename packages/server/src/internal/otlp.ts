/**
 * The OTLP trace Layer itself, in a module of its own so that the OpenTelemetry SDK is loaded only
 * when tracing is on (`Tracing.layerOtlp` imports this module dynamically).
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http"
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace-base"
import * as Layer from "effect/Layer"

/** @internal */
export const layer = (options: { readonly serviceName: string; readonly serviceVersion: string }): Layer.Layer<never> =>
  Layer.discard(NodeSdk.layer(() => ({
    spanProcessor: new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 1000 }),
    resource: { serviceName: options.serviceName, serviceVersion: options.serviceVersion }
  })))
