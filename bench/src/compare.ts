/**
 * The comparison (`pnpm bench`, first part): this project's CLI and SDK next to lego, certbot and
 * node's acme-client, in one run, against one local Pebble behind the counting proxy.
 *
 * For each client: one warm-up issuance (registers the account; not counted), then 20 sequential
 * single-name ec-p256 issuances, each a new process (the SDK: in one process), measuring wall time,
 * CPU, peak RSS and the requests the CA received. Then one `acme renew` of 20 certificates (CLI and
 * SDK), and the cold start of `--version` (median of 20). Pebble validates every http-01 challenge
 * for real, against each client's own server (`challengeServers: "external"`); a second Pebble in
 * always-valid mode measures the batch of 20 again, as a throughput run, then one certificate per
 * process for each client and the cron run over those certificates when none is due (cron.ts).
 * Writes bench/results/compare.json.
 *
 * @since 0.1.0
 */
import { Pebble } from "@acme/testing"
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Schema } from "effect"
import * as path from "node:path"
import { type Client, cliBinary, cliConfig, ours, processClients, type Target } from "./clients.js"
import * as Cron from "./cron.js"
import * as Environment from "./environment.js"
import * as Measure from "./measure.js"
import * as Profile from "./profile.js"
import * as Proxy from "./proxy.js"

/** sequential issuances per client, certificates in a batch, cold starts per client */
export const rounds = Number(process.env["BENCH_ROUNDS"] ?? 20)

/** `BENCH_ONLY=cron`: only the always-valid part's cron rows and the cold starts (while working on them) */
const onlyCron = process.env["BENCH_ONLY"] === "cron"

/**
 * @since 0.1.0
 * @category models
 */
export interface Issuance {
  readonly wallMs: number
  readonly cpuMs: number
  readonly maxRssKiB: number
  readonly requests: number
  readonly connections: number
  readonly byEndpoint: Readonly<Record<string, number>>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Batch {
  readonly client: string
  readonly mode: string
  readonly certificates: number
  readonly wallMs: number
  readonly cpuMs: number
  readonly maxRssKiB: number
  readonly requests: number
  readonly connections: number
  readonly byEndpoint: Readonly<Record<string, number>>
  readonly command: string
  /** what the memory was made of at the highest RSS, when it was sampled (scale.ts) */
  readonly memory?: Profile.MemoryPeak | undefined
}

const names = (prefix: string, count: number): ReadonlyArray<string> =>
  Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(4, "0")}`)

const describe = (command: Measure.Command): string =>
  [
    ...Object.entries(command.env ?? {}).map(([k, v]) => `${k}=${v}`),
    command.command === process.execPath ? "node" : command.command,
    ...command.args
  ].join(" ")

const SdkOutput = Schema.parseJson(Schema.Struct({
  runs: Schema.Array(Schema.Struct({ wallMs: Schema.Number, cpuMs: Schema.Number })),
  maxRssKiB: Schema.Number
}))

/** The SDK runner in one process: its own timings per renewal, the proxy's counts for all of them. */
export const sdkRun = (target: Target, proxy: Proxy.CountingProxy, workdir: string, mode: "sequential" | "batch", list: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    yield* proxy.take
    const command: Measure.Command = {
      command: process.execPath,
      args: [Environment.sdkRunner, JSON.stringify({
        directoryUrl: target.directoryUrl,
        caFile: target.caFile,
        storage: path.join(workdir, "storage"),
        httpPort: target.httpPort,
        names: list,
        mode
      })]
    }
    const sample = yield* Measure.run(command)
    const counts = yield* proxy.take
    const output = yield* Schema.decodeUnknown(SdkOutput)(sample.stdout.trim().split("\n").at(-1)).pipe(Effect.orDie)
    return { output, counts, sample, command: `node bench/.cache/sdk-run.mjs '{"mode":"${mode}","names":[${list.length} names],...}'` }
  })

const sequential = (client: Client, target: Target, proxy: Proxy.CountingProxy, workdir: string) =>
  Effect.gen(function*() {
    yield* Measure.run(client.issue(target, workdir, `${client.id}-warmup`))
    const samples: Array<Issuance> = []
    for (const name of names(client.id, rounds)) {
      yield* proxy.take
      const sample = yield* Measure.run(client.issue(target, workdir, name))
      const counts = yield* proxy.take
      samples.push({
        wallMs: sample.wallMs,
        cpuMs: sample.cpuMs,
        maxRssKiB: sample.maxRssKiB,
        requests: counts.requests,
        connections: counts.connections,
        byEndpoint: counts.byEndpoint
      })
    }
    yield* Console.log(
      `${client.label}: median ${Measure.median(samples.map((s) => s.wallMs)).toFixed(0)} ms, ` +
        `${Measure.mean(samples.map((s) => s.requests)).toFixed(1)} requests per certificate`
    )
    return {
      client: client.label,
      id: client.id,
      // described with a real (scratch) folder, which the text then names <workdir>: building a
      // command may write files there (our CLI's config)
      command: ((scratch) => describe(client.issue(target, scratch, "<name>")).split(scratch).join("<workdir>"))(
        Environment.workFolder(`describe-${client.id}`)
      ),
      samples
    }
  })

const sdkSequential = (target: Target, proxy: Proxy.CountingProxy) =>
  Effect.gen(function*() {
    const workdir = Environment.workFolder("sdk")
    yield* sdkRun(target, proxy, workdir, "sequential", ["sdk-warmup"])
    const run = yield* sdkRun(target, proxy, workdir, "sequential", names("sdk", rounds))
    const perCert = run.counts.requests / rounds
    yield* Console.log(
      `SDK: median ${Measure.median(run.output.runs.map((r) => r.wallMs)).toFixed(0)} ms, ${perCert.toFixed(1)} requests per certificate`
    )
    return {
      client: "acme (this project, SDK in process)",
      id: "acme-sdk",
      command: run.command,
      samples: run.output.runs.map((r): Issuance => ({
        wallMs: r.wallMs,
        cpuMs: r.cpuMs,
        maxRssKiB: run.output.maxRssKiB,
        requests: perCert,
        connections: run.counts.connections / rounds,
        byEndpoint: Object.fromEntries(Object.entries(run.counts.byEndpoint).map(([k, v]) => [k, v / rounds]))
      }))
    }
  })

/** One `acme renew` of `count` new certificates (the account exists), as one process. */
export const cliBatch = (
  target: Target,
  proxy: Proxy.CountingProxy,
  workdir: string,
  count: number,
  mode: string,
  prefix = "cli-batch",
  memoryFile?: string
) =>
  Effect.gen(function*() {
    const config = cliConfig(target, workdir, names(prefix, count))
    yield* proxy.take
    // sampling the memory (a preload reading the RSS every 10 ms) is all the measured run gets
    const sampling = memoryFile === undefined ? undefined : Profile.memorySampling(memoryFile)
    const command: Measure.Command = {
      command: process.execPath,
      args: [...(sampling?.nodeOptions ?? []), cliBinary, "renew", "--config", config],
      env: sampling?.env
    }
    const sample = yield* Measure.run(command)
    const counts = yield* proxy.take
    return {
      client: "acme (this project, CLI)",
      mode,
      certificates: count,
      wallMs: sample.wallMs,
      cpuMs: sample.cpuMs,
      maxRssKiB: sample.maxRssKiB,
      requests: counts.requests,
      connections: counts.connections,
      byEndpoint: counts.byEndpoint,
      command: `node apps/cli/dist/acme.mjs renew --config <config with ${count} certificates>`,
      memory: memoryFile === undefined ? undefined : Profile.readMemory(memoryFile)
    } satisfies Batch
  })

const batches = (target: Target, proxy: Proxy.CountingProxy, mode: string) =>
  Effect.gen(function*() {
    const cliWork = Environment.workFolder(`cli-batch-${mode}`)
    yield* cliBatch(target, proxy, cliWork, 1, mode, "cli-batch-warmup")
    // one run of 20 is one sample, and one sample on a shared machine can be off by a third: the
    // median (by wall time) of three runs, each of 20 new certificates
    const runs: Array<Batch> = []
    for (let run = 1; run <= 3; run++) runs.push(yield* cliBatch(target, proxy, cliWork, rounds, mode, `cli-batch-${run}`))
    const cli = [...runs].sort((a, b) => a.wallMs - b.wallMs)[1] ?? runs[0]
    if (cli === undefined) return yield* Effect.die("no batch run")
    const sdkWork = Environment.workFolder(`sdk-batch-${mode}`)
    yield* sdkRun(target, proxy, sdkWork, "sequential", ["sdk-batch-warmup"])
    const sdk = yield* sdkRun(target, proxy, sdkWork, "batch", names("sdk-batch", rounds))
    const sdkBatch: Batch = {
      client: "acme (this project, SDK in process)",
      mode,
      certificates: rounds,
      wallMs: sdk.output.runs[0]?.wallMs ?? Number.NaN,
      cpuMs: sdk.output.runs[0]?.cpuMs ?? Number.NaN,
      maxRssKiB: sdk.output.maxRssKiB,
      requests: sdk.counts.requests,
      connections: sdk.counts.connections,
      byEndpoint: sdk.counts.byEndpoint,
      command: sdk.command
    }
    for (const batch of [cli, sdkBatch]) {
      yield* Console.log(
        `${batch.client}, renew of ${batch.certificates} (${mode}): ${(batch.wallMs / batch.certificates).toFixed(1)} ms, ` +
          `${(batch.cpuMs / batch.certificates).toFixed(1)} ms CPU, ${(batch.requests / batch.certificates).toFixed(2)} requests per certificate`
      )
    }
    return [cli, sdkBatch]
  })

const coldStarts = Effect.gen(function*() {
  const commands: Array<{ readonly client: string; readonly command: Measure.Command }> = [
    ...processClients.map((client) => ({ client: client.label, command: client.version })),
    { client: "node (empty script, for reference)", command: { command: process.execPath, args: ["-e", ""] } }
  ]
  const results = []
  for (const { client, command } of commands) {
    yield* Measure.run(command)
    const samples: Array<Measure.Sample> = []
    for (let i = 0; i < rounds; i++) samples.push(yield* Measure.run(command))
    results.push({
      client,
      command: describe(command),
      wallMs: samples.map((s) => s.wallMs),
      cpuMs: samples.map((s) => s.cpuMs),
      maxRssKiB: samples.map((s) => s.maxRssKiB)
    })
    yield* Console.log(`${client} start: median ${Measure.median(samples.map((s) => s.wallMs)).toFixed(0)} ms`)
  }
  return results
})

/** A Pebble for benchmarks behind the counting proxy. */
export const pebbleBehindProxy = (alwaysValid: boolean) =>
  Effect.gen(function*() {
    const pebble = yield* Pebble.make({
      alwaysValid,
      authzReusePercent: 0,
      nonceRejectPercent: 0,
      challengeServers: "external"
    })
    const proxy = yield* Proxy.make(pebble)
    const target: Target = { directoryUrl: proxy.directoryUrl, caFile: proxy.caFile, httpPort: pebble.httpPort }
    return { pebble, proxy, target }
  })

/** the Pebble settings, for RESULTS.md */
export const pebbleSettings = (alwaysValid: boolean) => ({
  PEBBLE_VA_NOSLEEP: "1",
  PEBBLE_WFE_NONCEREJECT: "0",
  PEBBLE_AUTHZREUSE: "0",
  PEBBLE_VA_ALWAYS_VALID: alwaysValid ? "1" : "0"
})

const program = Effect.gen(function*() {
  yield* Environment.build
  yield* Profile.build
  const machine = Environment.machine()
  const validating = onlyCron ? { sequential: [], batch: [] } : yield* Effect.scoped(Effect.gen(function*() {
    const { proxy, target } = yield* pebbleBehindProxy(false)
    const results = []
    for (const client of processClients) {
      results.push(yield* sequential(client, target, proxy, Environment.workFolder(client.id)))
    }
    results.push(yield* sdkSequential(target, proxy))
    const batch = yield* batches(target, proxy, "validating")
    return { sequential: results, batch }
  }))
  const throughput = yield* Effect.scoped(Effect.gen(function*() {
    const { proxy, target } = yield* pebbleBehindProxy(true)
    const batch = onlyCron ? [] : yield* batches(target, proxy, "always-valid")
    // one new certificate per process without the wait for validation, then the cron run over
    // those certificates when none is due (cron.ts)
    const perProcess = []
    const nothingDue = []
    const profiles: Array<Profile.Profiled> = []
    for (const client of processClients) {
      const workdir = Environment.workFolder(`${client.id}-always-valid`)
      perProcess.push(yield* sequential(client, target, proxy, workdir))
      nothingDue.push(
        ...(yield* Cron.nothingDue({ client, target, proxy, workdir, names: names(client.id, rounds), rounds, describe }))
      )
      // after its measured runs: our CLI's issue-14 targets once more under node --cpu-prof (profile.ts)
      if (client.id === ours.id) {
        profiles.push(...(yield* Profile.cron({ target, proxy, workdir, names: names(client.id, rounds), count: rounds })))
      }
    }
    return { batch, perProcess, nothingDue, profiles }
  }))
  const starts = yield* coldStarts
  machine.loadAtEnd = Environment.load()
  Environment.writeResults("compare.json", {
    generatedAt: new Date().toISOString(),
    rounds,
    machine,
    versions: Environment.versions(),
    pebble: { validating: pebbleSettings(false), alwaysValid: pebbleSettings(true) },
    sequential: validating.sequential,
    batch: [...validating.batch, ...throughput.batch],
    perProcess: throughput.perProcess,
    nothingDue: throughput.nothingDue,
    profiles: throughput.profiles,
    coldStart: starts
  })
})

if (import.meta.url === `file://${process.argv[1]}`) {
  NodeRuntime.runMain(program)
}
