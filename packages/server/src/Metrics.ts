/**
 * The server's metrics, as Effect `Metric`s named like cert-manager's (so that its dashboards and
 * alerts carry over), exported to Prometheus by `Prometheus`:
 *
 * - `acme_certificate_expiration_timestamp_seconds{name}`: the certificate's notAfter;
 * - `acme_certificate_renewal_timestamp_seconds{name}`: when the planner will renew it;
 * - `acme_certificate_ready_status{name,condition}`: 1 for the condition that holds (`True`: a
 *   certificate is stored, not revoked, not expired; `False` otherwise), 0 for the others;
 * - `acme_renewals_total{name,result}`: certificates renewed (`result="renewed"`) or that failed
 *   to renew (`result="failed"`);
 * - `acme_run_duration_seconds`: how long each renewal run took (histogram);
 * - `process_cpu_seconds_total`, `process_resident_memory_bytes`, `process_heap_bytes`,
 *   `process_start_time_seconds`.
 *
 * `acme_ca_requests_total` and `acme_ca_request_duration_seconds` are the SDK's (`CaMetrics`).
 *
 * @since 0.1.0
 */
import type * as Reporter from "@acme/sdk/Reporter"
import type { Status } from "@acme/sdk"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as MetricLabel from "effect/MetricLabel"
import * as Option from "effect/Option"

/**
 * @since 0.1.0
 * @category metrics
 */
export const certificateExpiration: Metric.Metric.Gauge<number> = Metric.gauge(
  "acme_certificate_expiration_timestamp_seconds",
  { description: "The date after which the certificate expires (notAfter), as a Unix timestamp" }
)

/**
 * @since 0.1.0
 * @category metrics
 */
export const certificateRenewal: Metric.Metric.Gauge<number> = Metric.gauge(
  "acme_certificate_renewal_timestamp_seconds",
  { description: "When the certificate is to be renewed, as a Unix timestamp" }
)

/**
 * @since 0.1.0
 * @category metrics
 */
export const certificateReady: Metric.Metric.Gauge<number> = Metric.gauge("acme_certificate_ready_status", {
  description: "1 for the certificate's ready condition (True, False or Unknown), 0 for the others"
})

/**
 * @since 0.1.0
 * @category metrics
 */
export const renewals: Metric.Metric.Counter<number> = Metric.counter("acme_renewals_total", {
  description: "Certificates renewed (result=renewed) or that failed to renew (result=failed)",
  incremental: true
})

/**
 * @since 0.1.0
 * @category metrics
 */
export const runDuration = Metric.histogram(
  "acme_run_duration_seconds",
  MetricBoundaries.fromIterable([0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600]),
  "Duration of renewal runs, in seconds"
)

const processCpu: Metric.Metric.Counter<number> = Metric.counter("process_cpu_seconds_total", {
  description: "User and system CPU time spent, in seconds",
  incremental: true
})
const processResident: Metric.Metric.Gauge<number> = Metric.gauge("process_resident_memory_bytes", {
  description: "Resident memory size, in bytes"
})
const processHeap: Metric.Metric.Gauge<number> = Metric.gauge("process_heap_bytes", {
  description: "V8 heap in use, in bytes"
})
const processStart: Metric.Metric.Gauge<number> = Metric.gauge("process_start_time_seconds", {
  description: "Start time of the process since the Unix epoch, in seconds"
})

const byName = (metric: Metric.Metric.Gauge<number>, name: string): Metric.Metric.Gauge<number> =>
  Metric.taggedWithLabels(metric, [MetricLabel.make("name", name)])

const conditions = ["True", "False", "Unknown"] as const

/**
 * Sets the certificate gauges from a status report (`Status.status`, as `acme status --json`).
 *
 * @since 0.1.0
 * @category combinators
 */
export const fromStatus = (report: Status.Report): Effect.Effect<void> =>
  Effect.gen(function*() {
    const now = yield* DateTime.now
    for (const certificate of report.certificates) {
      const notAfter = Option.flatMap(Option.fromNullable(certificate.notAfter), DateTime.make)
      if (Option.isSome(notAfter)) {
        yield* Metric.set(byName(certificateExpiration, certificate.name), DateTime.toEpochMillis(notAfter.value) / 1000)
      }
      const renewAt = certificate.next.action === "renew now"
        ? Option.some(now)
        : Option.flatMap(Option.fromNullable(certificate.next.at), DateTime.make)
      if (Option.isSome(renewAt)) {
        yield* Metric.set(byName(certificateRenewal, certificate.name), DateTime.toEpochMillis(renewAt.value) / 1000)
      }
      const ready = Option.isSome(notAfter) && certificate.revokedAt === undefined &&
        DateTime.lessThan(now, notAfter.value)
      for (const condition of conditions) {
        const holds = condition === (ready ? "True" : "False")
        yield* Metric.set(
          Metric.taggedWithLabels(certificateReady, [
            MetricLabel.make("name", certificate.name),
            MetricLabel.make("condition", condition)
          ]),
          holds ? 1 : 0
        )
      }
    }
  })

/**
 * Counts a finished run's renewals and failures, and its duration.
 *
 * @since 0.1.0
 * @category combinators
 */
export const fromRun = (report: Reporter.RunReport, seconds: number): Effect.Effect<void> =>
  Effect.gen(function*() {
    if (report.command === "renew" && !report.dryRun) yield* Metric.update(runDuration, seconds)
    for (const certificate of report.certificates) {
      if (certificate.action !== "renewed" && certificate.action !== "failed") continue
      if (report.command !== "renew") continue
      yield* Metric.increment(
        Metric.taggedWithLabels(renewals, [
          MetricLabel.make("name", certificate.name),
          MetricLabel.make("result", certificate.action)
        ])
      )
    }
  })

/**
 * Reads the process's CPU time and memory into the process metrics (done before each scrape).
 *
 * @since 0.1.0
 * @category combinators
 */
export const updateProcess: Effect.Effect<void> = Effect.gen(function*() {
  const cpu = process.cpuUsage()
  const seconds = (cpu.user + cpu.system) / 1e6
  const counted = (yield* Metric.value(processCpu)).count
  if (seconds > counted) yield* Metric.incrementBy(processCpu, seconds - counted)
  const memory = process.memoryUsage()
  yield* Metric.set(processResident, memory.rss)
  yield* Metric.set(processHeap, memory.heapUsed)
  const now = yield* DateTime.now
  yield* Metric.set(processStart, Math.round(DateTime.toEpochMillis(now) / 1000 - process.uptime()))
})
