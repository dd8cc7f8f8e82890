/**
 * Test support for the fault suite: the renewal pipeline talking to Pebble only through the
 * `FaultProxy` of `@acme/testing`, with storage in a temporary folder per test, and checks of what
 * is on disk.
 */
import { FaultProxy, Pebble } from "@acme/testing"
import { AcmeProtocol, ChallengeSolver, Planner, Renewal, RenewalSettings, RenewalState, Reporter, Storage } from "@acme/sdk"
import type { FileSystem } from "@effect/platform"
import { NodeContext, NodePath } from "@effect/platform-node"
import { expect } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { createPrivateKey, X509Certificate } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { faultsLayer, recordingHttpClient, requestLogLayer } from "./acme.js"
import { type CertificateInput, challtestsrvResponders, configFor, driveClock } from "./pipeline.js"

/**
 * Pebble, the proxy in front of it, and the pipeline's services (no Storage, no settings: each test
 * brings its own). Requests may take a day so that `driveClock` never takes their timeouts for
 * waits; every request is recorded in the RequestLog with the TestClock's time.
 */
export const proxiedPipeline = (
  pebbleOptions: Pebble.PebbleOptions = {},
  protocol: Omit<AcmeProtocol.AcmeProtocol.Options, "directoryUrl"> = {}
) => {
  const http = recordingHttpClient.pipe(
    Layer.provideMerge(Layer.merge(requestLogLayer, faultsLayer)),
    Layer.provide(FaultProxy.layerHttpClient)
  )
  const acme = Layer.unwrapEffect(
    Effect.map(FaultProxy.FaultProxy, (proxy) =>
      AcmeProtocol.layer({
        directoryUrl: proxy.directoryUrl,
        pollInterval: "50 millis",
        requestTimeout: "1 day",
        ...protocol
      }))
  )
  const solver = ChallengeSolver.layer.pipe(
    Layer.provide(challtestsrvResponders),
    Layer.provide(http)
  )
  return Layer.mergeAll(acme, solver, Planner.layer(), Reporter.layer).pipe(
    Layer.provideMerge(http),
    Layer.provideMerge(FaultProxy.layer),
    Layer.provideMerge(Pebble.layer(pebbleOptions))
  )
}

/** The configuration for these certificates, with the proxy as the CA. */
export const proxiedSettings = (
  certificates: ReadonlyArray<CertificateInput>,
  renewal: Parameters<typeof configFor>[2] = {}
) =>
  Layer.effect(
    RenewalSettings.RenewalSettings,
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const proxy = yield* FaultProxy.FaultProxy
      const config = configFor(pebble, certificates, renewal)
      return { config: { ...config, ca: { ...config.ca, directory: proxy.directoryUrl } }, eab: Option.none() }
    })
  )

/** A fresh folder for file storage, removed when the test's scope closes. */
export const storageFolder = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "acme-faults-"))),
  (folder) => Effect.sync(() => fs.rmSync(folder, { recursive: true, force: true }))
)

/**
 * One renewal run over file storage at `root`, with the TestClock driven to every wait (see
 * `driveClock`): provide `TestContext.TestContext` around the test.
 */
export const renewAt = (
  root: string,
  certificates: ReadonlyArray<CertificateInput>,
  options: Renewal.Options & {
    readonly renewal?: Parameters<typeof configFor>[2]
    /** the file system under the storage (default: Node's) */
    readonly fileSystem?: Layer.Layer<FileSystem.FileSystem> | undefined
    /** `driveClock`'s horizon: shorter than the run's time budget, when the test sets one */
    readonly horizon?: number | undefined
  } = {}
) =>
  Effect.gen(function*() {
    const platform = options.fileSystem === undefined
      ? NodeContext.layer
      : Layer.merge(options.fileSystem, NodePath.layer)
    const fiber = yield* Effect.fork(
      Renewal.renew(options).pipe(
        Effect.provide(proxiedSettings(certificates, options.renewal)),
        Effect.provide(Storage.layerFileSystem(root).pipe(Layer.provide(platform)))
      )
    )
    return yield* driveClock(fiber, options.horizon)
  })

/** Every regular file under `root` (links followed) with its bytes, by relative path. */
export const contents = (root: string, under: ReadonlyArray<string> = ["live", "archive", "accounts"]) => {
  const files: Record<string, string> = {}
  const walk = (folder: string) => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name)
      if (fs.statSync(full).isDirectory()) walk(full)
      else files[path.relative(root, full)] = fs.readFileSync(full).toString("base64")
    }
  }
  for (const folder of under) if (fs.existsSync(path.join(root, folder))) walk(path.join(root, folder))
  return files
}

/** Temp files (`.<name>.tmp-<hex>`) anywhere under `root`. */
export const temporaryFiles = (root: string): ReadonlyArray<string> =>
  fs.readdirSync(root, { recursive: true, encoding: "utf8" }).filter((file) => /(^|\/)\.[^/]+\.tmp-[0-9a-f]+$/.test(file))

/** The live certificate of `name` parses, carries `domain`, and matches its private key. */
export const expectLiveValid = (root: string, name: string, domain: string) => {
  const live = path.join(root, "live", name)
  const certificate = new X509Certificate(fs.readFileSync(path.join(live, "cert.pem")))
  expect(certificate.checkPrivateKey(createPrivateKey(fs.readFileSync(path.join(live, "privkey.pem")))), name).toBe(true)
  expect(certificate.subjectAltName, name).toContain(`DNS:${domain}`)
  expect(fs.readFileSync(path.join(live, "fullchain.pem"), "utf8").startsWith(fs.readFileSync(path.join(live, "cert.pem"), "utf8")))
    .toBe(true)
  // as the SDK reports it (and openssl prints it)
  return certificate.serialNumber
}

/** the run's checkpoint in the file system storage at `root`, as the next run reads it */
export const checkpointAt = (root: string, runId: string) =>
  Effect.flatMap(Storage.Storage, (storage) => storage.loadCheckpoints).pipe(
    Effect.map((checkpoints) =>
      Option.getOrThrow(
        Option.flatMap(
          Option.fromNullable(checkpoints.find((checkpoint) => checkpoint.runId === runId)),
          (checkpoint) => RenewalState.decode(checkpoint.json)
        )
      )
    ),
    Effect.provide(Storage.layerFileSystem(root).pipe(Layer.provide(NodeContext.layer)))
  )
