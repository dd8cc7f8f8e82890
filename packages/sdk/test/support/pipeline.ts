/**
 * Test support for the renewal pipeline: the pipeline's Layers over a real Pebble, with memory
 * storage and responders that answer challenges through challtestsrv.
 */
import { Pebble, PebbleHttpClient } from "@acme/testing"
import {
  AcmeProtocol,
  ChallengeResponse,
  ChallengeSolver,
  Planner,
  RenewalConfig,
  RenewalSettings,
  Reporter,
  Storage
} from "@acme/sdk"
import { Chunk, Clock, Effect, Fiber, Layer, Option, Schema, TestClock } from "effect"
import { faultsLayer, recordingHttpClient, type RequestLog, requestLogLayer } from "./acme.js"

/** http-01 and tls-alpn-01 answered by challtestsrv (which Pebble validates against). */
export const challtestsrvResponders = Layer.unwrapEffect(
  Effect.map(Pebble.Pebble, (pebble) =>
    Layer.mergeAll(
      Layer.succeed(ChallengeSolver.Http01Responder, {
        present: (task) => Effect.orDie(pebble.addHttp01(task.token, task.keyAuthorization)),
        cleanup: (task) => Effect.ignore(pebble.removeHttp01(task.token))
      }),
      Layer.succeed(ChallengeSolver.TlsAlpn01Responder, {
        present: (task) => Effect.orDie(pebble.addTlsAlpn01(task.identifier.value, task.keyAuthorization)),
        cleanup: (task) => Effect.ignore(pebble.removeTlsAlpn01(task.identifier.value))
      }),
      Layer.succeed(ChallengeSolver.Dns01Responder, {
        present: (task) =>
          Effect.flatMap(
            ChallengeResponse.dns01TxtValue(task.keyAuthorization),
            (value) => Effect.orDie(pebble.setTxt(ChallengeResponse.dns01RecordName(task.identifier), value))
          ),
        cleanup: (task) => Effect.ignore(pebble.clearTxt(ChallengeResponse.dns01RecordName(task.identifier)))
      })
    ))
)

export type CertificateInput = {
  readonly name: string
  readonly domains: ReadonlyArray<string>
  readonly challenge: "http-01" | "dns-01" | "tls-alpn-01"
  readonly key?: string
  readonly reuseKey?: boolean
  readonly profile?: string
  readonly preferredChain?: string
  readonly deployHook?: string
}

/** Decodes a config for this Pebble, the way a config file would be. */
export const configFor = (
  pebble: Pebble.Service,
  certificates: ReadonlyArray<CertificateInput>,
  renewal: {
    readonly maxAttempts?: number
    readonly maxWait?: string
    readonly maxRunTime?: string
    readonly daysBefore?: number
    readonly leaseTtl?: string
  } = {}
): RenewalConfig.RenewalConfig =>
  Schema.decodeUnknownSync(RenewalConfig.RenewalConfig)({
    ca: { directory: pebble.directoryUrl },
    account: { email: "ops@example.test" },
    storage: { path: "memory" },
    // the run's time budget and the leases' keep-alive (every third of the ttl) are sleeps on the
    // Clock too: beyond `driveClock`'s horizon unless a test sets its own, so that the clock is never
    // moved to them while a request is in flight
    renewal: { maxRunTime: "1 day", leaseTtl: "6 hours", ...renewal },
    certificates: certificates.map((certificate) => ({
      name: certificate.name,
      domains: certificate.domains,
      key: certificate.key,
      reuseKey: certificate.reuseKey,
      profile: certificate.profile,
      preferredChain: certificate.preferredChain,
      deployHook: certificate.deployHook,
      challenge: certificate.challenge === "dns-01"
        ? { type: "dns-01", provider: "challtestsrv", url: pebble.challtestsrvUrl }
        : { type: certificate.challenge }
    }))
  })

export const settingsLayer = (
  certificates: ReadonlyArray<CertificateInput>,
  renewal?: Parameters<typeof configFor>[2],
  directoryUrl?: string
) =>
  Layer.effect(
    RenewalSettings.RenewalSettings,
    Effect.map(Pebble.Pebble, (pebble) => {
      const config = configFor(pebble, certificates, renewal)
      return {
        config: directoryUrl === undefined ? config : { ...config, ca: { ...config.ca, directory: directoryUrl } },
        eab: Option.none()
      }
    })
  )

/**
 * Lets the test clock run while a forked program works against a real CA: whenever the fiber waits
 * on the clock (a poll interval, the scheduler), the clock jumps exactly to the earliest wake-up; while
 * it waits for real I/O, time stands still. Waits therefore take their exact simulated length.
 *
 * Timeouts are sleeps too: wake-ups further away than `horizon` are taken for the timeouts of I/O in
 * flight and never jumped to, so give the program's requests a timeout longer than that, and its
 * run a time budget (`renewal.maxRunTime`) longer than that (`configFor` does).
 */
export const driveClock = <A, E>(fiber: Fiber.Fiber<A, E>, horizon: number = 3_600_000) =>
  Effect.gen(function*() {
    for (;;) {
      const done = yield* Fiber.poll(fiber)
      if (Option.isSome(done)) return yield* Fiber.join(fiber)
      const now = yield* Clock.currentTimeMillis
      const next = Chunk.reduce(yield* TestClock.sleeps(), Infinity, (a, b) => Math.min(a, b))
      if (next - now <= horizon) {
        yield* TestClock.adjust(Math.max(0, next - now))
      } else {
        yield* Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, 2)))
      }
    }
  })

export const pipelineServices = (protocol: Omit<AcmeProtocol.AcmeProtocol.Options, "directoryUrl"> = {}) => {
  const http = recordingHttpClient.pipe(
    Layer.provideMerge(Layer.merge(requestLogLayer, faultsLayer)),
    Layer.provide(PebbleHttpClient.layer)
  )
  const acme = Layer.unwrapEffect(
    Effect.map(Pebble.Pebble, (pebble) =>
      AcmeProtocol.layer({ directoryUrl: pebble.directoryUrl, pollInterval: "50 millis", ...protocol }))
  )
  const solver = ChallengeSolver.layer.pipe(
    Layer.provide(challtestsrvResponders),
    Layer.provide(http)
  )
  return Layer.mergeAll(acme, solver, Planner.layer(), Reporter.layer).pipe(
    Layer.provideMerge(http),
    Layer.provideMerge(Storage.layerMemory)
  )
}

export type { RequestLog }
