/**
 * Scale (`pnpm bench:scale`, also run by `pnpm bench`): one `acme renew` of 100 and of 1,000 new
 * certificates against an always-valid Pebble behind the counting proxy (total time, CPU, peak RSS,
 * requests per certificate), then `acme status` over 10,000 stored certificates. Writes
 * bench/results/scale.json.
 *
 * The 10,000 are made cheaply: one real certificate from the 100-run is stored under 10,000 names
 * (its files hard-linked into each name's archive version, `live/<name>` a symlink to it, as the file
 * storage lays them out), and the configuration lists the 10,000 names with that certificate's
 * domain. `acme status` reads and parses every one of them.
 *
 * `BENCH_SCALE` (default `100,1000`) and `BENCH_STATUS` (default `10000`) change the sizes.
 *
 * @since 0.1.0
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { cliBinary, cliConfig, type Target } from "./clients.js"
import { cliBatch, pebbleBehindProxy, pebbleSettings } from "./compare.js"
import * as Environment from "./environment.js"
import * as Measure from "./measure.js"
import * as Profile from "./profile.js"

/** the part of `acme status --json` read here */
const StatusOutput = Schema.parseJson(Schema.Struct({
  certificates: Schema.Array(Schema.Struct({ serial: Schema.optional(Schema.String) }))
}))

const sizes = (process.env["BENCH_SCALE"] ?? "100,1000").split(",").map(Number).filter((n) => n > 0)
const statusSize = Number(process.env["BENCH_STATUS"] ?? 10_000)

/** the part of the generated configuration changed here */
const ConfigFile = Schema.parseJson(Schema.Struct({
  certificates: Schema.Array(Schema.Struct({ domains: Schema.Array(Schema.String) }, { key: Schema.String, value: Schema.Unknown }))
}, { key: Schema.String, value: Schema.Unknown }))

/** `count` names, each a hard-linked copy of the stored certificate `source`, and a config naming them. */
const fakeStorage = (target: Target, source: { storage: string; name: string }, workdir: string, count: number) => {
  const sourceVersion = fs.realpathSync(path.join(source.storage, "live", source.name))
  const metadata: unknown = JSON.parse(fs.readFileSync(path.join(sourceVersion, "metadata.json"), "utf8"))
  const storage = path.join(workdir, "storage")
  for (const folder of ["live", "archive", "accounts"]) fs.mkdirSync(path.join(storage, folder), { recursive: true })
  fs.cpSync(path.join(source.storage, "accounts"), path.join(storage, "accounts"), { recursive: true })
  const names = Array.from({ length: count }, (_, i) => `status-${String(i + 1).padStart(5, "0")}`)
  for (const name of names) {
    const version = path.join(storage, "archive", name, "1")
    fs.mkdirSync(version, { recursive: true })
    for (const file of ["cert.pem", "chain.pem", "fullchain.pem", "privkey.pem"]) {
      fs.linkSync(path.join(sourceVersion, file), path.join(version, file))
    }
    fs.writeFileSync(path.join(version, "metadata.json"), JSON.stringify({ ...Object(metadata), name }))
    fs.symlinkSync(path.join("..", "archive", name, "1"), path.join(storage, "live", name))
  }
  // every name gets the source certificate's domain, so that the stored certificate matches it
  const domain = `${source.name}.example.com`
  const file = cliConfig(target, workdir, names)
  const config = Schema.decodeUnknownSync(ConfigFile)(fs.readFileSync(file, "utf8"))
  fs.writeFileSync(file, JSON.stringify({
    ...config,
    certificates: config.certificates.map((certificate) => ({ ...certificate, domains: [domain] }))
  }))
  return file
}

const program = Effect.gen(function*() {
  yield* Environment.build
  yield* Profile.build
  const machine = Environment.machine()
  const result = yield* Effect.scoped(Effect.gen(function*() {
    const { proxy, target } = yield* pebbleBehindProxy(true)
    const workdir = Environment.workFolder("scale")
    // the account is created first, as in the comparison: the runs measured renew with an existing account
    yield* cliBatch(target, proxy, workdir, 1, "always-valid", "scale-warmup")
    const renewals = []
    for (const size of sizes) {
      const memoryFile = path.join(Profile.folder, "raw", `renew-${size}`, "memory.json")
      const batch = yield* cliBatch(target, proxy, workdir, size, "always-valid", `scale${size}`, memoryFile)
      renewals.push(batch)
      yield* Console.log(
        `acme renew of ${size}: ${(batch.wallMs / 1000).toFixed(1)} s, ${(batch.wallMs / size).toFixed(1)} ms and ` +
          `${(batch.cpuMs / size).toFixed(1)} ms CPU per certificate, peak RSS ${(batch.maxRssKiB / 1024).toFixed(0)} MiB, ` +
          `${(batch.requests / size).toFixed(2)} requests per certificate`
      )
    }
    const statusWork = Environment.workFolder("status")
    const config = fakeStorage(target, { storage: path.join(workdir, "storage"), name: "scale-warmup-0001" }, statusWork, statusSize)
    const command: Measure.Command = { command: process.execPath, args: [cliBinary, "status", "--json", "--config", config] }
    yield* proxy.take
    const samples: Array<Measure.Sample> = []
    for (let i = 0; i < 3; i++) samples.push(yield* Measure.run(command))
    const counts = yield* proxy.take
    const listed = Schema.decodeUnknownSync(StatusOutput)(samples[0]?.stdout ?? "{}").certificates
      .filter((c) => c.serial !== undefined).length
    const status = {
      certificates: statusSize,
      withCertificate: listed,
      wallMs: samples.map((s) => s.wallMs),
      cpuMs: samples.map((s) => s.cpuMs),
      maxRssKiB: samples.map((s) => s.maxRssKiB),
      requests: counts.requests / samples.length,
      command: `node apps/cli/dist/acme.mjs status --json --config <config with ${statusSize} certificates>`
    }
    yield* Console.log(
      `acme status over ${statusSize} (${listed} with a certificate): median ${(Measure.median(status.wallMs) / 1000).toFixed(2)} s`
    )
    // after the measured runs: once more under node --cpu-prof (profile.ts)
    const profile = yield* Profile.run({
      target: "status-scale",
      command,
      description: `acme status --json --config <config with ${statusSize} certificates>`,
      certificates: statusSize,
      proxy
    })
    return { renewals, status, profiles: profile === undefined ? [] : [profile] }
  }))
  machine.loadAtEnd = Environment.load()
  Environment.writeResults("scale.json", {
    generatedAt: new Date().toISOString(),
    machine,
    versions: Environment.versions(),
    pebble: pebbleSettings(true),
    ...result
  })
})

NodeRuntime.runMain(program)
