/**
 * Traces over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (the OpenTelemetry variables
 * apply: `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_SERVICE_NAME`,
 * ...): every span of the SDK (`Renewal.renew`, `Renewal.<stage>`, `AcmeProtocol.<operation>`,
 * `AcmeProtocol.http <method>`) and of the server is exported through `@effect/opentelemetry`.
 * Without the variable, nothing is loaded and nothing is sent.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"

/**
 * The variable that turns tracing on.
 *
 * @since 0.1.0
 * @category constants
 */
export const endpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT"

/**
 * Spans to the OTLP endpoint (batched; flushed when the Layer's scope closes).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerOtlp = (options: { readonly serviceName: string; readonly serviceVersion: string }): Layer.Layer<never> =>
  Layer.unwrapEffect(Effect.promise(() => import("./internal/otlp.js")).pipe(Effect.map((otlp) => otlp.layer(options))))

/**
 * {@link layerOtlp} when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, else nothing.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromEnv = (options: { readonly serviceName: string; readonly serviceVersion: string }): Layer.Layer<
  never
> =>
  Layer.unwrapEffect(
    Config.option(Config.nonEmptyString(endpointVariable)).pipe(
      Effect.orElseSucceed(() => Option.none<string>()),
      Effect.map(Option.match({ onNone: () => Layer.empty, onSome: () => layerOtlp(options) }))
    )
  )
