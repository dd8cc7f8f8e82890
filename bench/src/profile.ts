/**
 * The profile step of the benchmarks (issue 14): after the measured runs of a target, the same
 * command runs once more under `node --cpu-prof`, from a build of the same CLI sources with source
 * maps (`bench/.cache/profile/cli`, apps/cli/build.mjs's esbuild options plus `sourcemap`; the
 * published dist/ has none), and profileSummary.ts turns the main thread's profile into the numbers
 * RESULTS.md prints. Raw profiles stay under `bench/.cache/profile/raw/<target>/` (open one in
 * Chrome DevTools, Performance panel, "Load profile").
 *
 * A profile that cannot be taken is reported on stderr and left out of the results: it never fails
 * the benchmark run whose measurements it only explains.
 *
 * @since 0.1.0
 */
import { Console, Effect, Option, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { cliBinary, cliConfig, ourStatus, root, type Target } from "./clients.js"
import * as Environment from "./environment.js"
import * as Measure from "./measure.js"
import * as ProfileSummary from "./profileSummary.js"
import type * as Proxy from "./proxy.js"

/** the source-mapped build and the raw profiles (ignored by git, under bench/.cache) */
export const folder = path.join(Environment.cacheDir, "profile")

/** the source-mapped CLI */
export const binary = path.join(folder, "cli", "acme.mjs")

/** microseconds between samples (node's default is 1000) */
export const intervalUs = 500

/**
 * The memory of a process at its highest resident set size, in bytes, as memorySampler.mjs writes
 * it: `process.memoryUsage()` then, and the size of each V8 heap space (`new_space`, `old_space`,
 * `code_space`, `large_object_space`, …).
 *
 * @since 0.1.0
 * @category schemas
 */
export const MemoryPeak = Schema.Struct({
  rss: Schema.Number,
  heapTotal: Schema.Number,
  heapUsed: Schema.Number,
  external: Schema.Number,
  arrayBuffers: Schema.Number,
  spaces: Schema.Record({ key: Schema.String, value: Schema.Number })
})

/**
 * @since 0.1.0
 * @category models
 */
export type MemoryPeak = typeof MemoryPeak.Type

const decodeMemory = Schema.decodeUnknownOption(Schema.parseJson(MemoryPeak))

/** the preload that samples the memory of a profiled run */
const memorySampler = path.join(import.meta.dirname, "memorySampler.mjs")

/**
 * What a node command needs to have its memory sampled into `file` (memorySampler.mjs): node
 * options to put before the script, and the environment.
 *
 * @since 0.1.0
 * @category running
 */
export const memorySampling = (file: string) => {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.rmSync(file, { force: true })
  return { nodeOptions: [`--import=${pathToFileURL(memorySampler).href}`], env: { BENCH_MEMORY_FILE: file } }
}

/**
 * The memory sample memorySampler.mjs wrote into `file`, if it did.
 *
 * @since 0.1.0
 * @category running
 */
export const readMemory = (file: string): MemoryPeak | undefined =>
  fs.existsSync(file) ? Option.getOrUndefined(decodeMemory(fs.readFileSync(file, "utf8"))) : undefined

/**
 * What was profiled and what the profile says.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Profiled = Schema.Struct({
  /** `noop-renew`, `noop-status`, `one-new`, `batch` (compare.ts), `status-scale` (scale.ts) */
  target: Schema.String,
  command: Schema.String,
  certificates: Schema.Number,
  /** the profiled process, from GNU time (profiling makes it slower than the measured runs) */
  wallMs: Schema.Number,
  cpuMs: Schema.Number,
  maxRssKiB: Schema.Number,
  requests: Schema.Number,
  /** the raw profile, relative to the repository */
  file: Schema.String,
  summary: ProfileSummary.Summary,
  /** what the memory was made of at the highest RSS of the profiled run (memorySampler.mjs) */
  memory: Schema.optional(MemoryPeak)
})

/**
 * @since 0.1.0
 * @category models
 */
export type Profiled = typeof Profiled.Type

/**
 * Builds the CLI with source maps into `bench/.cache/profile/cli` (always: it takes seconds).
 *
 * @since 0.1.0
 */
export const build = Effect.promise(async () => {
  const builder: { esbuildOptions: (outdir: string) => Record<string, unknown> } = await import(
    pathToFileURL(path.join(root, "apps", "cli", "build.mjs")).href
  )
  const esbuild = await import("esbuild")
  const outdir = path.dirname(binary)
  fs.rmSync(outdir, { recursive: true, force: true })
  await esbuild.build({
    ...builder.esbuildOptions(outdir),
    write: true,
    sourcemap: true,
    sourcesContent: false
  })
})

const decodeProfile = Schema.decodeUnknownSync(Schema.parseJson(ProfileSummary.CpuProfile))
const decodeMap = Schema.decodeUnknownSync(Schema.parseJson(ProfileSummary.SourceMapFile))

/** the main thread's profile of the process that wrote into `dir` (node names it CPU.<date>.<time>.<pid>.<thread>.<n>) */
const mainThreadProfile = (dir: string): string | undefined =>
  fs.readdirSync(dir).filter((name) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(name)).sort()[0]

/** Reads and summarizes the profile in `dir`, with the source maps of the bundle files it names. */
export const summarizeFolder = (dir: string): { readonly file: string; readonly summary: ProfileSummary.Summary } | undefined => {
  const name = mainThreadProfile(dir)
  if (name === undefined) return undefined
  const file = path.join(dir, name)
  const profile = decodeProfile(fs.readFileSync(file, "utf8"))
  const sourceMaps = new Map<string, typeof ProfileSummary.SourceMapFile.Type>()
  for (const url of new Set(profile.nodes.map((node) => node.callFrame.url))) {
    if (!url.startsWith("file:")) continue
    const map = `${new URL(url).pathname}.map`
    if (fs.existsSync(map)) sourceMaps.set(url, decodeMap(fs.readFileSync(map, "utf8")))
  }
  return { file: path.relative(root, file), summary: ProfileSummary.summarize(profile, { sourceMaps, root }) }
}

/**
 * Runs `command` (a `node <cliBinary> …` command) once more under `node --cpu-prof` with the
 * source-mapped build, and summarizes its profile; `undefined` (and a line on stderr) when that fails.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (
  options: {
    readonly target: string
    readonly command: Measure.Command
    readonly description: string
    readonly certificates: number
    readonly proxy: Proxy.CountingProxy
  }
): Effect.Effect<Profiled | undefined> =>
  Effect.gen(function*() {
    const dir = path.join(folder, "raw", options.target)
    fs.rmSync(dir, { recursive: true, force: true })
    fs.mkdirSync(dir, { recursive: true })
    const { command } = options
    if (command.command !== process.execPath || command.args[0] !== cliBinary) {
      return yield* Effect.dieMessage(`not a command of the CLI bundle: ${command.command} ${command.args[0] ?? ""}`)
    }
    yield* options.proxy.take
    const memoryFile = path.join(dir, "memory.json")
    const sampling = memorySampling(memoryFile)
    const sample = yield* Measure.run({
      ...command,
      env: { ...command.env, ...sampling.env },
      args: [
        `--cpu-prof`,
        `--cpu-prof-dir=${dir}`,
        `--cpu-prof-interval=${intervalUs}`,
        ...sampling.nodeOptions,
        binary,
        ...command.args.slice(1)
      ]
    })
    const counts = yield* options.proxy.take
    const summarized = summarizeFolder(dir)
    if (summarized === undefined) return yield* Effect.dieMessage(`no main-thread .cpuprofile in ${dir}`)
    const { file, summary } = summarized
    yield* Console.log(
      `profile ${options.target}: ${summary.coveredMs.toFixed(0)} ms covered, module loading ${summary.startupMs.toFixed(0)} ms, ` +
        `command ${summary.commandMs.toFixed(0)} ms, idle ${summary.idleMs.toFixed(0)} ms (${file})`
    )
    return {
      target: options.target,
      command: `node --cpu-prof ${options.description}`,
      certificates: options.certificates,
      wallMs: sample.wallMs,
      cpuMs: sample.cpuMs,
      maxRssKiB: sample.maxRssKiB,
      requests: counts.requests,
      file,
      summary,
      memory: readMemory(memoryFile)
    } satisfies Profiled
  }).pipe(
    Effect.catchAllCause((cause) =>
      Console.error(`profile ${options.target} not taken:\n${cause.toString()}`).pipe(Effect.as(undefined))
    )
  )

const names = (prefix: string, count: number): ReadonlyArray<string> =>
  Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(4, "0")}`)

/**
 * The profiles of the cron rows (compare.ts, after the CLI's measured runs in `workdir`, whose
 * account exists and whose `names` are stored and not due): the no-op `acme renew` and `acme status`
 * of them, one new certificate in a process of its own, and one `acme renew` of `count` new
 * certificates. Run against the always-valid Pebble.
 *
 * @since 0.1.0
 * @category running
 */
export const cron = (
  options: {
    readonly target: Target
    readonly proxy: Proxy.CountingProxy
    readonly workdir: string
    readonly names: ReadonlyArray<string>
    readonly count: number
  }
) =>
  Effect.gen(function*() {
    const { count, proxy, target, workdir } = options
    const stored = options.names.length
    const one = ["acme-cli-profile-one"]
    const batch = names("acme-cli-profile-batch", count)
    const renew = (list: ReadonlyArray<string>): Measure.Command => ({
      command: process.execPath,
      args: [cliBinary, "renew", "--config", cliConfig(target, workdir, list)]
    })
    const runs = [
      { target: "noop-renew", command: renew(options.names), certificates: stored, description: `acme renew --config <${stored} stored, none due>` },
      { target: "noop-status", command: ourStatus(target, workdir, options.names), certificates: stored, description: `acme status --config <${stored} stored>` },
      { target: "one-new", command: renew(one), certificates: 1, description: "acme renew --config <one new certificate>" },
      { target: "batch", command: renew(batch), certificates: count, description: `acme renew --config <${count} new certificates>` }
    ]
    const profiles: Array<Profiled> = []
    for (const profile of runs) {
      const result = yield* run({ ...profile, proxy })
      if (result !== undefined) profiles.push(result)
    }
    return profiles
  })
