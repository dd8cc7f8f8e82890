/**
 * Writes bench/RESULTS.md and bench/chart.svg from the raw numbers in bench/results/*.json
 * (`pnpm --filter @acme/bench report`; `pnpm bench` runs it last). The chart is a plain SVG bar chart
 * made here: no fonts or scripts from the internet.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { root } from "./clients.js"
import * as CronReport from "./cronReport.js"
import { resultsDir } from "./environment.js"
import { mean, median } from "./measure.js"
import { MemoryPeak, Profiled } from "./profile.js"
import * as ProfileReport from "./profileReport.js"

const Counts = Schema.Record({ key: Schema.String, value: Schema.Number })
const Settings = Schema.Record({ key: Schema.String, value: Schema.String })

const MachineSchema = Schema.Struct({
  cpu: Schema.String,
  cores: Schema.Number,
  memoryGiB: Schema.Number,
  os: Schema.String,
  node: Schema.String,
  loadAtStart: Schema.String,
  loadAtEnd: Schema.String
})

const Batch = Schema.Struct({
  client: Schema.String,
  mode: Schema.String,
  certificates: Schema.Number,
  wallMs: Schema.Number,
  cpuMs: Schema.Number,
  maxRssKiB: Schema.Number,
  requests: Schema.Number,
  connections: Schema.Number,
  byEndpoint: Counts,
  command: Schema.String,
  // what the memory was made of at the peak RSS (scale.ts samples it); absent before
  memory: Schema.optional(MemoryPeak)
})

const Compare = Schema.Struct({
  generatedAt: Schema.String,
  rounds: Schema.Number,
  machine: MachineSchema,
  versions: Schema.Record({ key: Schema.String, value: Schema.String }),
  pebble: Schema.Struct({ validating: Settings, alwaysValid: Settings }),
  // the cron rows' per-process shape, each sample with its requests by endpoint
  sequential: Schema.Array(Schema.Struct({
    ...CronReport.PerProcess.fields,
    samples: Schema.Array(Schema.Struct({ ...CronReport.Sample.fields, byEndpoint: Counts }))
  })),
  batch: Schema.Array(Batch),
  // the cron rows (cron.ts); absent from results written before them
  perProcess: Schema.optionalWith(Schema.Array(CronReport.PerProcess), { default: () => [] }),
  nothingDue: Schema.optionalWith(Schema.Array(CronReport.NothingDue), { default: () => [] }),
  // the profiles of issue 14's targets (profile.ts); absent from results written before them
  profiles: Schema.optionalWith(Schema.Array(Profiled), { default: () => [] }),
  coldStart: Schema.Array(Schema.Struct({
    client: Schema.String,
    command: Schema.String,
    wallMs: Schema.Array(Schema.Number),
    cpuMs: Schema.Array(Schema.Number),
    maxRssKiB: Schema.Array(Schema.Number)
  }))
})

const Scale = Schema.Struct({
  generatedAt: Schema.String,
  machine: MachineSchema,
  versions: Schema.Record({ key: Schema.String, value: Schema.String }),
  pebble: Schema.Record({ key: Schema.String, value: Schema.String }),
  renewals: Schema.Array(Batch),
  status: Schema.Struct({
    certificates: Schema.Number,
    withCertificate: Schema.Number,
    wallMs: Schema.Array(Schema.Number),
    cpuMs: Schema.Array(Schema.Number),
    maxRssKiB: Schema.Array(Schema.Number),
    requests: Schema.Number,
    command: Schema.String
  }),
  profiles: Schema.optionalWith(Schema.Array(Profiled), { default: () => [] })
})

const read = <A, I>(schema: Schema.Schema<A, I>, name: string): A | undefined => {
  const file = path.join(resultsDir, name)
  return fs.existsSync(file) ? Schema.decodeUnknownSync(Schema.parseJson(schema))(fs.readFileSync(file, "utf8")) : undefined
}

const ms = (value: number): string => (Number.isFinite(value) ? value < 10 ? value.toFixed(1) : value.toFixed(0) : "–")
const mib = (kib: number): string => (kib / 1024).toFixed(0)
const escapeXml = (text: string): string => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")

interface Bar {
  readonly label: string
  readonly value: number
  readonly ours: boolean
}

/** One horizontal bar chart panel; returns its SVG and height. */
const panel = (title: string, unit: string, bars: ReadonlyArray<Bar>, top: number, target?: number): [string, number] => {
  const width = 760
  const labelWidth = 250
  const barArea = width - labelWidth - 90
  const max = Math.max(...bars.map((b) => b.value), target ?? 0, 1)
  const rows = bars.map((bar, i) => {
    const y = top + 28 + i * 22
    const w = Math.max(1, (bar.value / max) * barArea)
    return [
      `<text x="${labelWidth - 8}" y="${y + 13}" text-anchor="end">${escapeXml(bar.label)}</text>`,
      `<rect x="${labelWidth}" y="${y}" width="${w.toFixed(1)}" height="16" fill="${bar.ours ? "#2b6cb0" : "#a0aec0"}"/>`,
      `<text x="${(labelWidth + w + 6).toFixed(1)}" y="${y + 13}">${ms(bar.value)} ${unit}</text>`
    ].join("")
  })
  const height = 28 + bars.length * 22 + 14
  const targetLine = target === undefined ? "" : (() => {
    const x = labelWidth + (target / max) * barArea
    return `<line x1="${x.toFixed(1)}" y1="${top + 22}" x2="${x.toFixed(1)}" y2="${top + height - 10}" stroke="#c53030" stroke-dasharray="4 3"/>` +
      `<text x="${(x + 4).toFixed(1)}" y="${top + 20}" fill="#c53030">target ${target} ${unit}</text>`
  })()
  return [`<text x="10" y="${top + 16}" font-weight="bold">${escapeXml(title)}</text>${rows.join("")}${targetLine}`, height]
}

const chart = (panels: ReadonlyArray<{ title: string; unit: string; bars: ReadonlyArray<Bar>; target?: number }>): string => {
  let top = 10
  const parts: Array<string> = []
  for (const p of panels) {
    const [svg, height] = panel(p.title, p.unit, p.bars, top, p.target)
    parts.push(svg)
    top += height + 10
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="760" height="${top}" viewBox="0 0 760 ${top}" font-family="sans-serif" font-size="12">`,
    `<rect width="760" height="${top}" fill="#ffffff"/>`,
    ...parts,
    "</svg>",
    ""
  ].join("\n")
}

const isOurs = (client: string): boolean => client.startsWith("acme (this project")

const render = (): void => {
  const compare = read(Compare, "compare.json")
  const scale = read(Scale, "scale.json")
  const lines: Array<string> = [
    "# Benchmark results",
    "",
    "Generated by `pnpm bench` (see [README.md](README.md) for what is measured and how). Do not edit by",
    "hand: `bench/src/report.ts` writes this file and [chart.svg](chart.svg) from the raw numbers in",
    "[results/](results/).",
    ""
  ]
  if (compare !== undefined) {
    const m = compare.machine
    lines.push(
      "## Machine and versions",
      "",
      `- generated ${compare.generatedAt}; ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, node ${m.node}`,
      `- load (\`uptime\`) at start: \`${m.loadAtStart}\``,
      `- load at end: \`${m.loadAtEnd}\``,
      ...Object.entries(compare.versions).map(([name, version]) => `- ${name}: ${version}`),
      "",
      "**Timings on a shared or loaded machine are noisy**: compare clients within one run, not across runs.",
      "Request counts do not depend on load.",
      "",
      "## Clients side by side",
      "",
      `${compare.rounds} sequential single-name ec-p256 issuances per client, each after one warm-up issuance that`,
      "registered the client's account (so every measured issuance uses an existing account). Each issuance",
      "is a new process (the SDK: one `Renewal.renew` per certificate in one process). Pebble validates",
      "every http-01 challenge for real against the client's own standalone server (harness",
      `\`challengeServers: "external"\`), with ${
        Object.entries(compare.pebble.validating).map(([k, v]) => `\`${k}=${v}\``).join(", ")
      }.`,
      "",
      "| client | wall per certificate, median (ms) | CPU per certificate, median (ms) | peak RSS, max (MiB) | CA requests per certificate, mean | new TLS connections per certificate |",
      "| --- | ---: | ---: | ---: | ---: | ---: |"
    )
    for (const s of compare.sequential) {
      lines.push(
        `| ${s.client} | ${ms(median(s.samples.map((x) => x.wallMs)))} | ${ms(median(s.samples.map((x) => x.cpuMs)))} | ${
          mib(Math.max(...s.samples.map((x) => x.maxRssKiB)))
        } | ${mean(s.samples.map((x) => x.requests)).toFixed(2)} | ${mean(s.samples.map((x) => x.connections)).toFixed(2)} |`
      )
    }
    lines.push(
      "",
      "The SDK's wall and CPU times are measured inside its process around each `Renewal.renew` (start-up",
      "excluded); its RSS is the whole process's peak over all issuances.",
      "",
      "### Requests per endpoint (one issuance, first measured sample; SDK: mean)",
      "",
      "| client | requests |",
      "| --- | --- |"
    )
    for (const s of compare.sequential) {
      const sample = s.samples[0]
      if (sample === undefined) continue
      lines.push(`| ${s.client} | ${Object.entries(sample.byEndpoint).map(([k, v]) => `${k} ×${Number(v.toFixed(2))}`).join(", ")} |`)
    }
    lines.push(
      "",
      `## One \`acme renew\` of ${compare.rounds} certificates`,
      "",
      "One process renewing all of them (new certificates, existing account). `validating`: Pebble as above;",
      `\`always-valid\`: ${Object.entries(compare.pebble.alwaysValid).map(([k, v]) => `\`${k}=${v}\``).join(", ")}.`,
      "",
      "| client | Pebble | total wall (ms) | wall per certificate (ms) | CPU per certificate (ms) | peak RSS (MiB) | CA requests per certificate | new TLS connections |",
      "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    )
    for (const b of compare.batch) {
      lines.push(
        `| ${b.client} | ${b.mode} | ${ms(b.wallMs)} | ${ms(b.wallMs / b.certificates)} | ${ms(b.cpuMs / b.certificates)} | ${
          mib(b.maxRssKiB)
        } | ${(b.requests / b.certificates).toFixed(2)} | ${b.connections} |`
      )
    }
    lines.push(
      "",
      "## Cold start",
      "",
      `Median of ${compare.rounds} runs of the command (after one unmeasured run).`,
      "",
      "| client | command | wall, median (ms) | CPU, median (ms) | peak RSS (MiB) |",
      "| --- | --- | ---: | ---: | ---: |"
    )
    for (const c of compare.coldStart) {
      lines.push(
        `| ${c.client} | \`${c.command}\` | ${ms(median(c.wallMs))} | ${ms(median(c.cpuMs))} | ${mib(Math.max(...c.maxRssKiB))} |`
      )
    }
    const node = compare.coldStart.find((c) => c.client.startsWith("node "))
    const ourBatch = compare.batch.find((b) => b.mode === "always-valid" && b.client === "acme (this project, CLI)")
    lines.push(...CronReport.sections({
      perProcess: compare.perProcess,
      nothingDue: compare.nothingDue,
      pebble: Object.entries(compare.pebble.alwaysValid).map(([k, v]) => `\`${k}=${v}\``).join(", "),
      nodeWallMs: node === undefined ? Number.NaN : median(node.wallMs),
      batch: ourBatch,
      profiles: compare.profiles
    }))
    lines.push("", "![chart](chart.svg)", "")
    const ourStart = compare.coldStart.find((c) => isOurs(c.client))
    const ourSequential = compare.sequential.find((s) => s.id === "acme-cli")
    const maxRss = Math.max(
      ...(ourSequential?.samples.map((s) => s.maxRssKiB) ?? []),
      ...compare.batch.filter((b) => b.client === "acme (this project, CLI)").map((b) => b.maxRssKiB)
    )
    lines.push(
      "## Targets (issue 5)",
      "",
      "| target | measured (this run) |",
      "| --- | --- |",
      `| at most 7 CA requests per certificate, averaged over ${compare.rounds} in one run | ${
        ourBatch === undefined ? "–" : (ourBatch.requests / ourBatch.certificates).toFixed(2)
      } (CLI, always-valid) |`,
      `| at most 30 ms wall per certificate in one \`acme renew\` of ${compare.rounds} | ${
        ourBatch === undefined ? "–" : ms(ourBatch.wallMs / ourBatch.certificates)
      } ms (always-valid) |`,
      `| at most 25 ms CPU per certificate in one \`acme renew\` of ${compare.rounds} | ${
        ourBatch === undefined ? "–" : ms(ourBatch.cpuMs / ourBatch.certificates)
      } ms (always-valid) |`,
      `| \`acme --version\` within 150 ms | ${ourStart === undefined ? "–" : ms(median(ourStart.wallMs))} ms |`,
      `| peak RSS under 100 MiB | ${mib(maxRss)} MiB (largest of the CLI runs above) |`,
      "",
      "What is missed and why: see [README.md](README.md#where-the-targets-stand), and for wall and CPU per",
      "certificate the profile of one `acme renew` of new certificates under \"Profiles (issue 14)\" above.",
      ""
    )
    const starts = compare.coldStart.map((c) => ({ label: c.client, value: median(c.wallMs), ours: isOurs(c.client) }))
    fs.writeFileSync(
      path.join(root, "bench", "chart.svg"),
      chart([
        {
          title: `Wall time per certificate, median of ${compare.rounds} sequential issuances (ms)`,
          unit: "ms",
          bars: compare.sequential.map((s) => ({ label: s.client, value: median(s.samples.map((x) => x.wallMs)), ours: isOurs(s.client) }))
        },
        {
          title: "CPU time per certificate, median (ms)",
          unit: "ms",
          bars: compare.sequential.map((s) => ({ label: s.client, value: median(s.samples.map((x) => x.cpuMs)), ours: isOurs(s.client) }))
        },
        {
          title: "CA requests per certificate (mean)",
          unit: "",
          target: 7,
          bars: [
            ...compare.sequential.map((s) => ({ label: s.client, value: mean(s.samples.map((x) => x.requests)), ours: isOurs(s.client) })),
            ...compare.batch.map((b) => ({ label: `${b.client.replace("acme (this project, ", "acme ").replace(")", "")}, renew of ${b.certificates} (${b.mode})`, value: b.requests / b.certificates, ours: true }))
          ]
        },
        {
          title: "Peak RSS per issuance process (MiB)",
          unit: "MiB",
          target: 100,
          bars: compare.sequential.map((s) => ({ label: s.client, value: Math.max(...s.samples.map((x) => x.maxRssKiB)) / 1024, ours: isOurs(s.client) }))
        },
        { title: "Cold start, median (ms)", unit: "ms", target: 150, bars: starts }
      ])
    )
  }
  if (scale !== undefined) {
    lines.push(
      "## Scale",
      "",
      `Generated ${scale.generatedAt}; load at start \`${scale.machine.loadAtStart}\`, at end \`${scale.machine.loadAtEnd}\`.`,
      `Pebble: ${Object.entries(scale.pebble).map(([k, v]) => `\`${k}=${v}\``).join(", ")}. One \`acme renew\` of N new`,
      "certificates with an existing account.",
      "",
      "| certificates | total wall (s) | wall per certificate (ms) | CPU per certificate (ms) | peak RSS (MiB) | CA requests per certificate | new TLS connections |",
      "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    )
    for (const r of scale.renewals) {
      lines.push(
        `| ${r.certificates} | ${(r.wallMs / 1000).toFixed(1)} | ${ms(r.wallMs / r.certificates)} | ${ms(r.cpuMs / r.certificates)} | ${
          mib(r.maxRssKiB)
        } | ${(r.requests / r.certificates).toFixed(2)} | ${r.connections} |`
      )
    }
    const sampled = scale.renewals.filter((r) => r.memory !== undefined)
    if (sampled.length > 0) {
      lines.push(
        "",
        "What the memory of each renewal was made of at its highest RSS (`memorySampler.mjs`, preloaded into the",
        "measured run, reads the RSS every 10 ms):",
        ""
      )
      for (const r of sampled) if (r.memory !== undefined) lines.push(`- ${r.certificates} certificates: ${ProfileReport.memoryText(r.memory)}`)
    }
    const s = scale.status
    lines.push(
      "",
      `\`acme status\` over ${s.certificates} stored certificates (${s.withCertificate} listed with a certificate; each`,
      "name holds a hard-linked copy of one real certificate): median of 3 runs.",
      "",
      "| certificates | wall, median (s) | CPU, median (s) | peak RSS (MiB) | CA requests per run | target |",
      "| ---: | ---: | ---: | ---: | ---: | --- |",
      `| ${s.certificates} | ${(median(s.wallMs) / 1000).toFixed(2)} | ${(median(s.cpuMs) / 1000).toFixed(2)} | ${
        mib(Math.max(...s.maxRssKiB))
      } | ${s.requests.toFixed(0)} | under 2 s |`,
      "",
      `Command: \`${s.command}\``,
      "",
      ...(scale.profiles.length === 0 ? [] : [...ProfileReport.introduction, ...ProfileReport.sections(scale.profiles, ["status-scale"], Number.NaN)])
    )
  }
  if (compare !== undefined) {
    lines.push("## Commands", "", "Exactly what was run (`<workdir>` is a folder under `bench/.cache/work/`):", "")
    for (const s of compare.sequential) lines.push(`- ${s.client}: \`${s.command}\``)
    for (const b of compare.batch) lines.push(`- ${b.client}, renew of ${b.certificates} (${b.mode}): \`${b.command}\``)
    lines.push("")
  }
  fs.writeFileSync(path.join(root, "bench", "RESULTS.md"), lines.join("\n"))
}

render()
