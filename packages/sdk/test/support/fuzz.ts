/**
 * Test support for the fuzz suite: the renewal pipeline against an always-valid Pebble behind the
 * FaultProxy in its seeded chaos mode, on TestClock, one seed at a time, with the checks every seed
 * must pass whatever the CA answered.
 */
import { FaultProxy, Pebble } from "@acme/testing"
import { AcmeProtocol, ChallengeSolver, Planner, Renewal, RenewalConfig, RenewalSettings, Reporter, Storage } from "@acme/sdk"
import { NodeContext } from "@effect/platform-node"
import { Chunk, Clock, Context, Effect, Fiber, Layer, Option, Ref, Schema, TestClock } from "effect"
import { createPrivateKey, X509Certificate } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { faultsLayer, recordingHttpClient, RequestLog, requestLogLayer } from "./acme.js"

/** The certificates of every case: two, so that a run goes from one to the next (nonce hand-over). */
export const certificates = [
  { name: "fuzz-a", domains: ["a.fuzz.example.test"] },
  { name: "fuzz-b", domains: ["b.fuzz.example.test", "www.b.fuzz.example.test"] }
] as const

/** The run's time budget in the fuzz cases (on TestClock): above `driveClock`'s horizon, see there. */
export const maxRunTimeMillis = 2 * 3600_000
const horizonMillis = 3600_000

/**
 * A run sends at most this many requests before any time passes on its clock, or per second of it
 * on average beyond that: a tight loop breaks either bound at once.
 */
export const requestBound = (elapsedMillis: number) => 150 + Math.ceil((2 * elapsedMillis) / 1000)

/** A run that sends more than this is stopped: a tight loop. */
export const hardCap = 600

const config = (directoryUrl: string): RenewalConfig.RenewalConfig =>
  Schema.decodeUnknownSync(RenewalConfig.RenewalConfig)({
    ca: { directory: directoryUrl },
    account: { email: "fuzz@example.test" },
    storage: { path: "unused" },
    renewal: { maxRunTime: `${maxRunTimeMillis / 1000} seconds` },
    certificates: certificates.map((c) => ({ ...c, challenge: { type: "http-01" } }))
  })

/** An always-valid CA needs no response in place: the responder does nothing. */
const noResponder = Layer.succeed(ChallengeSolver.Http01Responder, {
  present: () => Effect.void,
  cleanup: () => Effect.void
})

/**
 * Pebble (always valid), the FaultProxy in front of it, and the pipeline's services talking to the
 * proxy through a client that records every request. Not the ARI-capable Pebble: it remembers which
 * certificates were replaced, so a seed would not play the same after other seeds as alone.
 */
export const fuzzPipeline = () => {
  const pebble = Pebble.layer({ alwaysValid: true })
  const http = recordingHttpClient.pipe(
    Layer.provideMerge(Layer.merge(requestLogLayer, faultsLayer)),
    Layer.provide(FaultProxy.layerHttpClient)
  )
  const acme = Layer.unwrapEffect(
    Effect.map(FaultProxy.FaultProxy, (proxy) =>
      AcmeProtocol.layer({ directoryUrl: proxy.directoryUrl, requestTimeout: "1 day" }))
  )
  const settings = Layer.effect(
    RenewalSettings.RenewalSettings,
    Effect.map(FaultProxy.FaultProxy, (proxy) => ({ config: config(proxy.directoryUrl), eab: Option.none() }))
  )
  const solver = ChallengeSolver.layer.pipe(Layer.provide(noResponder))
  return Layer.mergeAll(acme, solver, settings, Planner.layer(), Reporter.layer).pipe(
    Layer.provideMerge(http),
    Layer.provideMerge(FaultProxy.layer),
    Layer.provideMerge(pebble)
  )
}

/** One forced renewal over file storage at `root`. */
const renewAt = (root: string) =>
  Renewal.renew({ force: true }).pipe(
    Effect.provide(Storage.layerFileSystem(root).pipe(Layer.provide(NodeContext.layer)))
  )

/**
 * The storage every case starts from: both certificates issued (and the account registered) by a
 * run without chaos, on the live clock.
 *
 * @category tags
 */
export class Template extends Context.Tag("test/fuzz/Template")<Template, string>() {}

export const templateLayer = Layer.scoped(
  Template,
  Effect.gen(function*() {
    const folder = yield* Effect.acquireRelease(
      Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "acme-fuzz-template-"))),
      (folder) => Effect.sync(() => fs.rmSync(folder, { recursive: true, force: true }))
    )
    const report = yield* renewAt(folder)
    if (!report.certificates.every((c) => c.action === "renewed")) {
      return yield* Effect.die(new Error(`the fuzz template was not issued: ${JSON.stringify(report.certificates)}`))
    }
    return folder
  })
)

/** Every regular file under `root`'s live, archive and accounts folders (links followed), with its bytes. */
export const contents = (root: string): Record<string, string> => {
  const files: Record<string, string> = {}
  const walk = (folder: string) => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name)
      if (fs.statSync(full).isDirectory()) walk(full)
      else files[path.relative(root, full)] = fs.readFileSync(full).toString("base64")
    }
  }
  for (const folder of ["live", "archive", "accounts"]) if (fs.existsSync(path.join(root, folder))) walk(path.join(root, folder))
  return files
}

/** What one seed did: its report, what the client sent, how long it took on the clock, and what the CA saw. */
export interface Outcome {
  readonly seed: number
  readonly fresh: boolean
  readonly root: string
  readonly before: Record<string, string>
  readonly report: Reporter.RunReport
  readonly urls: ReadonlyArray<string>
  readonly elapsed: number
  readonly exchanges: ReadonlyArray<FaultProxy.Exchange>
  readonly trapped: ReadonlyArray<FaultProxy.Trapped>
  readonly origin: string
}

/**
 * Runs one seed: a copy of the template (or, for one seed in five, an empty storage: a new
 * account), chaos from the seed, a forced renewal on TestClock driven like `driveClock` (wake-ups
 * within the horizon are jumped to; further ones are the timeouts of requests in flight), stopped as
 * a tight loop beyond {@link hardCap} requests.
 */
export const runSeed = (seed: number) =>
  Effect.gen(function*() {
    const proxy = yield* FaultProxy.FaultProxy
    const log = yield* RequestLog
    const template = yield* Template
    const fresh = seed % 5 === 0
    const root = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const folder = fs.mkdtempSync(path.join(os.tmpdir(), `acme-fuzz-${seed}-`))
        if (!fresh) fs.cpSync(template, folder, { recursive: true, verbatimSymlinks: true })
        return folder
      }),
      (folder) => Effect.sync(() => fs.rmSync(folder, { recursive: true, force: true }))
    )
    const before = contents(root)
    yield* proxy.clear
    const seen = (yield* proxy.exchanges).length
    const trappedBefore = (yield* proxy.trapped).length
    const sentBefore = (yield* Ref.get(log)).length
    yield* proxy.chaos({ seed })
    const start = yield* Clock.currentTimeMillis
    const fiber = yield* Effect.fork(renewAt(root))
    for (;;) {
      if (Option.isSome(yield* Fiber.poll(fiber))) break
      const sent = (yield* Ref.get(log)).length - sentBefore
      if (sent > hardCap) {
        yield* Fiber.interrupt(fiber)
        return yield* Effect.die(new Error(`seed ${seed}: a tight loop: ${sent} requests and the run is still going`))
      }
      const now = yield* Clock.currentTimeMillis
      const next = Chunk.reduce(yield* TestClock.sleeps(), Infinity, (a, b) => Math.min(a, b))
      if (next - now <= horizonMillis) yield* TestClock.adjust(Math.max(0, next - now))
      else yield* Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 2)))
    }
    const report = yield* Fiber.join(fiber)
    yield* proxy.clear
    return {
      seed,
      fresh,
      root,
      before,
      report,
      urls: (yield* Ref.get(log)).slice(sentBefore).map((r) => r.url),
      elapsed: (yield* Clock.currentTimeMillis) - start,
      exchanges: (yield* proxy.exchanges).slice(seen),
      trapped: (yield* proxy.trapped).slice(trappedBefore),
      origin: proxy.url
    } satisfies Outcome
  })

/** What to print when a seed fails: how to replay it, and what the chaos did. */
export const describeOutcome = (outcome: Outcome): string =>
  [
    `seed ${outcome.seed} (replay: ACME_FUZZ_SEED=${outcome.seed} pnpm --filter @acme/sdk exec vitest run test/fuzz.test.ts)`,
    `  ${outcome.fresh ? "empty storage" : "storage with both certificates"}; ${outcome.urls.length} requests in ${
      Math.round(outcome.elapsed / 1000)
    } s on the clock`,
    ...outcome.report.certificates.map((c) => `  ${c.name}: ${c.action} (attempts ${c.attempts ?? 0}): ${c.reason}`),
    "  chaos:",
    ...outcome.exchanges.filter((e) => e.mutation !== undefined).map((e) => `    ${e.method} ${e.path} -> ${e.status}: ${e.mutation}`)
  ].join("\n")

/**
 * The live certificate `name`, checked: it parses, matches its key, names its domains, and its
 * fullchain starts with it; its serial as Pebble prints it.
 */
export const liveCertificate = (root: string, name: string, domains: ReadonlyArray<string>) => {
  const live = path.join(root, "live", name)
  const certificate = new X509Certificate(fs.readFileSync(path.join(live, "cert.pem")))
  const matches = certificate.checkPrivateKey(createPrivateKey(fs.readFileSync(path.join(live, "privkey.pem"))))
  const named = domains.every((domain) => certificate.subjectAltName?.includes(`DNS:${domain}`) ?? false)
  const chained = fs.readFileSync(path.join(live, "fullchain.pem"), "utf8")
    .startsWith(fs.readFileSync(path.join(live, "cert.pem"), "utf8"))
  return { serial: certificate.serialNumber.toLowerCase().replace(/^0+/, ""), valid: matches && named && chained }
}

/** Temp files (`.<name>.tmp-<hex>`) anywhere under `root`. */
export const temporaryFiles = (root: string): ReadonlyArray<string> =>
  fs.readdirSync(root, { recursive: true, encoding: "utf8" }).filter((file) => /(^|\/)\.[^/]+\.tmp-[0-9a-f]+$/.test(file))

/** The seeds to run: `ACME_FUZZ_SEED` (a list), else `ACME_FUZZ_SEEDS` of them from `ACME_FUZZ_FROM`. */
export const seedsFromEnvironment = (defaults: { readonly count: number; readonly from: number }): ReadonlyArray<number> => {
  const listed = process.env["ACME_FUZZ_SEED"]
  if (listed !== undefined && listed.trim() !== "") {
    return listed.split(/[\s,]+/).filter((s) => s !== "").map(Number).filter(Number.isSafeInteger)
  }
  const count = Number(process.env["ACME_FUZZ_SEEDS"] ?? defaults.count)
  const from = Number(process.env["ACME_FUZZ_FROM"] ?? defaults.from)
  return Array.from({ length: Number.isSafeInteger(count) ? count : defaults.count }, (_, i) => from + i)
}
