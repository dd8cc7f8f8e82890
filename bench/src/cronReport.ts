/**
 * The cron rows of RESULTS.md (issue 14; measured by cron.ts): one new certificate per process and
 * the cron run that changes nothing, each client next to the others, with the targets.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { mean, median } from "./measure.js"
import type { Profiled } from "./profile.js"
import * as ProfileReport from "./profileReport.js"

/**
 * One issuance per process (the same shape as the validating comparison's samples).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Sample = Schema.Struct({
  wallMs: Schema.Number,
  cpuMs: Schema.Number,
  maxRssKiB: Schema.Number,
  requests: Schema.Number,
  connections: Schema.Number
})

/**
 * @since 0.1.0
 * @category schemas
 */
export const PerProcess = Schema.Struct({
  client: Schema.String,
  id: Schema.String,
  command: Schema.String,
  samples: Schema.Array(Sample)
})

/**
 * @since 0.1.0
 * @category schemas
 */
export const NothingDue = Schema.Struct({
  client: Schema.String,
  id: Schema.String,
  what: Schema.Literal("renew", "status"),
  certificates: Schema.Number,
  command: Schema.String,
  runs: Schema.Array(Schema.Struct({
    wallMs: Schema.Number,
    cpuMs: Schema.Number,
    maxRssKiB: Schema.Number,
    processes: Schema.Number,
    requests: Schema.Number
  }))
})

const ms = (value: number): string => (Number.isFinite(value) ? value < 10 ? value.toFixed(1) : value.toFixed(0) : "–")
const mib = (kib: number): string => (kib / 1024).toFixed(0)

/**
 * The sections, in Markdown lines; `nodeWallMs` is the median wall time of `node -e ""` in the same run,
 * `batch` our CLI's always-valid `acme renew` of N new certificates (absent with `BENCH_ONLY=cron`),
 * `profiles` the profiles of the targets (profile.ts).
 *
 * @since 0.1.0
 */
export const sections = (
  input: {
    readonly perProcess: ReadonlyArray<typeof PerProcess.Type>
    readonly nothingDue: ReadonlyArray<typeof NothingDue.Type>
    readonly pebble: string
    readonly nodeWallMs: number
    readonly batch: { readonly certificates: number; readonly wallMs: number; readonly cpuMs: number } | undefined
    readonly profiles: ReadonlyArray<Profiled>
  }
): Array<string> => {
  if (input.perProcess.length === 0 && input.nothingDue.length === 0) return []
  const lines = [
    "## One new certificate per process (always-valid)",
    "",
    "The sequential issuances above again, each a new process with an existing account, against a Pebble",
    `that does not validate (${input.pebble}): no wait for validation, so what is left is start-up and the`,
    "client's own work.",
    "",
    "| client | wall per certificate, median (ms) | CPU per certificate, median (ms) | peak RSS, max (MiB) | CA requests per certificate, mean |",
    "| --- | ---: | ---: | ---: | ---: |"
  ]
  for (const s of input.perProcess) {
    lines.push(
      `| ${s.client} | ${ms(median(s.samples.map((x) => x.wallMs)))} | ${ms(median(s.samples.map((x) => x.cpuMs)))} | ${
        mib(Math.max(...s.samples.map((x) => x.maxRssKiB)))
      } | ${mean(s.samples.map((x) => x.requests)).toFixed(2)} |`
    )
  }
  const count = input.nothingDue[0]?.certificates ?? 0
  lines.push(
    "",
    `## The cron run that changes nothing (${count} stored certificates, none due)`,
    "",
    "What each client's cron job runs over the certificates it issued in the row above, none of them due:",
    "`acme renew` (and `acme status`) of all of them, `lego renew` once per certificate (lego renews the",
    "certificate of the domains it is given), one `certbot renew`, and for acme-client (a library) a node",
    "script that reads each stored certificate's expiry with acme-client's parser. Median of the runs, each",
    "after one unmeasured run; for lego the sum of its processes.",
    "",
    "| client | command | processes | wall, median (ms) | CPU, median (ms) | peak RSS (MiB) | CA requests per run |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
  )
  for (const n of input.nothingDue) {
    lines.push(
      `| ${n.client} | ${n.what} | ${n.runs[0]?.processes ?? 0} | ${ms(median(n.runs.map((r) => r.wallMs)))} | ${
        ms(median(n.runs.map((r) => r.cpuMs)))
      } | ${mib(Math.max(...n.runs.map((r) => r.maxRssKiB)))} | ${mean(n.runs.map((r) => r.requests)).toFixed(1)} |`
    )
  }
  const ours = (what: "renew" | "status") => input.nothingDue.find((n) => n.id === "acme-cli" && n.what === what)
  const wall = (n: typeof NothingDue.Type | undefined) => (n === undefined ? Number.NaN : median(n.runs.map((r) => r.wallMs)))
  const cli = input.perProcess.find((s) => s.id === "acme-cli")
  const batch = input.batch
  lines.push(
    "",
    "### Targets (issue 14)",
    "",
    "| target | measured (this run) |",
    "| --- | --- |",
    `| \`acme renew\`, nothing due of ${count}: at most 2× \`node -e ""\` (${ms(input.nodeWallMs)} ms) wall | ${
      ms(wall(ours("renew")))
    } ms (${(wall(ours("renew")) / input.nodeWallMs).toFixed(1)}×) |`,
    `| \`acme status\` of ${count}: the same | ${ms(wall(ours("status")))} ms (${
      (wall(ours("status")) / input.nodeWallMs).toFixed(1)
    }×) |`,
    `| one new certificate per process: at most 150 ms wall, median | ${
      cli === undefined ? "–" : ms(median(cli.samples.map((x) => x.wallMs)))
    } ms |`,
    `| ${batch === undefined ? "N" : batch.certificates} new certificates in one \`acme renew\`: at most 30 ms wall and 25 ms CPU per certificate | ${
      batch === undefined
        ? "– (not run)"
        : `${ms(batch.wallMs / batch.certificates)} ms wall, ${ms(batch.cpuMs / batch.certificates)} ms CPU (always-valid)`
    } |`,
    "",
    ...(input.profiles.length === 0 ? [] : [
      "### Profiles (issue 14)",
      "",
      ...ProfileReport.introduction,
      ...ProfileReport.sections(input.profiles, ["noop-renew", "noop-status", "one-new", "batch"], input.nodeWallMs)
    ]),
    "Commands of the cron runs:",
    "",
    ...input.nothingDue.map((n) => `- ${n.client}, ${n.what}: \`${n.command}\``),
    ""
  )
  return lines
}
