/**
 * Metrics of the requests sent to the CA, as Effect `Metric`s (the SDK depends on no metrics
 * library; `@acme/server` exports them to Prometheus through `@effect/opentelemetry`):
 *
 * - `acme_ca_requests_total{endpoint,method,status}`: requests by ACME resource (`newOrder`,
 *   `finalize`, ..., never a URL: the label set stays small), method and HTTP status (`error` when no
 *   answer came);
 * - `acme_ca_request_duration_seconds{endpoint,method}`: how long each took (histogram).
 *
 * The HTTP transport wraps each exchange in {@link track}.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as MetricLabel from "effect/MetricLabel"

/**
 * @since 0.1.0
 * @category metrics
 */
export const requests: Metric.Metric.Counter<number> = Metric.counter("acme_ca_requests_total", {
  description: "Requests sent to the ACME CA, by endpoint, method and status",
  incremental: true
})

/**
 * @since 0.1.0
 * @category metrics
 */
export const requestDuration = Metric.histogram(
  "acme_ca_request_duration_seconds",
  MetricBoundaries.fromIterable([0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]),
  "Duration of requests to the ACME CA, in seconds"
)

/**
 * Counts one request to the CA and records its duration; `status` is the HTTP status of the answer,
 * or `error` when none came (connection failure, timeout).
 *
 * @since 0.1.0
 * @category combinators
 */
export const track = (request: { readonly endpoint: string; readonly method: string }) =>
<A extends { readonly status: number }, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.gen(function*() {
    const started = yield* Clock.currentTimeMillis
    const exit = yield* Effect.exit(self)
    const seconds = ((yield* Clock.currentTimeMillis) - started) / 1000
    const status = Exit.isSuccess(exit) ? String(exit.value.status) : "error"
    const labels = [MetricLabel.make("endpoint", request.endpoint), MetricLabel.make("method", request.method)]
    yield* Metric.increment(Metric.taggedWithLabels(requests, [...labels, MetricLabel.make("status", status)]))
    yield* Metric.update(Metric.taggedWithLabels(requestDuration, labels), seconds)
    return yield* exit
  })
