/**
 * The SDK, in process: `Renewal.renew` with the same Layers the CLI uses (file storage, undici
 * trusting the CA's root, our own http-01 server), built once, then
 *
 * - `sequential`: one `Renewal.renew` per name, each with a configuration of that one certificate;
 * - `batch`: one `Renewal.renew` of a configuration holding all the names.
 *
 * Bundled by bench/src/bench.ts with esbuild into `bench/.cache/sdk-run.mjs` and run by node, like an
 * application embedding the SDK would be. Prints one JSON document: wall and CPU time of each
 * renewal (measured inside the process, so start-up is excluded) and the process's peak RSS.
 *
 *   node sdk-run.mjs '{"directoryUrl":...,"caFile":...,"storage":...,"httpPort":...,"names":[...],"mode":"sequential"}'
 */
import { AcmeProtocol, ChallengeSolver, Planner, Renewal, RenewalConfig, RenewalSettings, Reporter, Storage } from "@acme/sdk"
import { NodeAcmeHttpClient, NodeHttp01Responder } from "@acme/platform-node"
import { NodeContext } from "@effect/platform-node"
import { Effect, Layer, Option, Schema } from "effect"
import * as fs from "node:fs"

const Arguments = Schema.parseJson(Schema.Struct({
  directoryUrl: Schema.String,
  caFile: Schema.String,
  storage: Schema.String,
  httpPort: Schema.Number,
  names: Schema.Array(Schema.String),
  mode: Schema.Literal("sequential", "batch")
}))

const args = Schema.decodeUnknownSync(Arguments)(process.argv[2])

const settings = (names: ReadonlyArray<string>): RenewalSettings.Settings => ({
  config: Schema.decodeUnknownSync(RenewalConfig.RenewalConfig)({
    ca: { directory: args.directoryUrl },
    account: { email: "bench@example.org" },
    storage: { path: args.storage },
    certificates: names.map((name) => ({
      name,
      domains: [`${name}.example.com`],
      challenge: { type: "http-01", port: args.httpPort, address: "127.0.0.1" }
    }))
  }),
  eab: Option.none()
})

const Services = Layer.mergeAll(
  AcmeProtocol.layer({ directoryUrl: args.directoryUrl }).pipe(
    Layer.provide(NodeAcmeHttpClient.layer({ trust: [fs.readFileSync(args.caFile, "utf8")] }))
  ),
  Storage.layerFileSystem(args.storage),
  Planner.layer(),
  Reporter.layer,
  ChallengeSolver.layer.pipe(Layer.provide(NodeHttp01Responder.layer))
).pipe(Layer.provide(NodeContext.layer))

const renewal = (names: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const cpu = process.cpuUsage()
    const started = performance.now()
    const report = yield* Renewal.renew().pipe(Effect.provideService(RenewalSettings.RenewalSettings, settings(names)))
    const used = process.cpuUsage(cpu)
    const failed = report.certificates.filter((c) => c.action !== "renewed")
    if (failed.length > 0) {
      return yield* Effect.dieMessage(`not renewed: ${failed.map((c) => `${c.name} (${c.reason})`).join("; ")}`)
    }
    return { wallMs: performance.now() - started, cpuMs: (used.user + used.system) / 1000 }
  })

const program = Effect.gen(function*() {
  const runs = args.mode === "batch"
    ? [yield* renewal(args.names)]
    : yield* Effect.forEach(args.names, (name) => renewal([name]))
  process.stdout.write(`${JSON.stringify({ runs, maxRssKiB: process.resourceUsage().maxRSS })}\n`)
})

Effect.runPromise(program.pipe(Effect.provide(Services))).catch((error: unknown) => {
  process.stderr.write(`sdk-run: ${String(error)}\n`)
  process.exit(1)
})
