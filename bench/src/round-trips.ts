/**
 * HTTP round trips of the renewal pipeline against a local Pebble: every request the client sends
 * to the CA, by endpoint, for
 *
 * 1. a first issuance (new account, one certificate, http-01),
 * 2. a re-run when nothing is due,
 * 3. a forced renewal (the account exists, the authorization is new).
 *
 * Pebble is started with nonce rejection and authorization reuse off, so that the counts are the
 * client's own and repeatable. Run with `pnpm bench:round-trips` (after scripts/setup.sh).
 */
import { Pebble, PebbleHttpClient } from "@acme/testing"
import {
  AcmeProtocol,
  ChallengeSolver,
  Planner,
  Renewal,
  RenewalConfig,
  RenewalSettings,
  Reporter,
  Storage
} from "@acme/sdk"
import * as HttpClient from "@effect/platform/HttpClient"
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Option, Ref, Schema } from "effect"

class Requests extends Effect.Service<Requests>()("bench/Requests", {
  effect: Ref.make<ReadonlyArray<string>>([])
}) {}

/** Counts every request by method and endpoint (the path without the ids Pebble puts in it). */
const Counting = Layer.effect(
  HttpClient.HttpClient,
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const log = yield* Requests
    return HttpClient.tapRequest(client, (request) => {
      const endpoint = new URL(request.url).pathname.split("/")[1] ?? ""
      return Ref.update(log, (all) => [...all, `${request.method} /${endpoint}`])
    })
  })
)

const Http01ViaChalltestsrv = Layer.effect(
  ChallengeSolver.Http01Responder,
  Effect.map(Pebble.Pebble, (pebble): ChallengeSolver.Responder => ({
    present: (task) => Effect.orDie(pebble.addHttp01(task.token, task.keyAuthorization)),
    cleanup: (task) => Effect.ignore(pebble.removeHttp01(task.token))
  }))
)

const Settings = Layer.effect(
  RenewalSettings.RenewalSettings,
  Effect.map(Pebble.Pebble, (pebble) => ({
    config: Schema.decodeUnknownSync(RenewalConfig.RenewalConfig)({
      ca: { directory: pebble.directoryUrl },
      storage: { path: "memory" },
      certificates: [{ name: "bench", domains: ["bench.example.test"], challenge: { type: "http-01" } }]
    }),
    eab: Option.none()
  }))
)

const Http = Counting.pipe(Layer.provide(PebbleHttpClient.layer), Layer.provideMerge(Requests.Default))

const Environment = Layer.mergeAll(
  Layer.unwrapEffect(Effect.map(Pebble.Pebble, (p) => AcmeProtocol.layer({ directoryUrl: p.directoryUrl }))),
  ChallengeSolver.layer.pipe(Layer.provide(Http01ViaChalltestsrv)),
  Storage.layerMemory,
  Planner.layer(),
  Reporter.layer,
  Settings
).pipe(
  Layer.provideMerge(Http),
  Layer.provideMerge(Pebble.layer({ nonceRejectPercent: 0, authzReusePercent: 0 }))
)

const measure = (label: string, options: Renewal.Options) =>
  Effect.gen(function*() {
    const log = yield* Requests
    yield* Ref.set(log, [])
    const report = yield* Renewal.renew(options)
    const requests = yield* Ref.get(log)
    const counts = new Map<string, number>()
    for (const request of requests) counts.set(request, (counts.get(request) ?? 0) + 1)
    yield* Console.log(`\n${label}: ${requests.length} requests (${report.certificates.map((c) => c.action).join(", ")})`)
    for (const [request, count] of counts) yield* Console.log(`  ${String(count).padStart(3)}  ${request}`)
    return requests.length
  })

const main = Effect.gen(function*() {
  yield* measure("first issuance (new account)", {})
  yield* measure("re-run, nothing due", {})
  yield* measure("forced renewal (account known)", { force: true })
})

main.pipe(Effect.provide(Environment), NodeRuntime.runMain)
