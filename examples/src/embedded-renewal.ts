/**
 * Embedding the renewal pipeline in your own Effect program, with Layers of your own:
 *
 * - certificates kept in memory (`Storage.layerMemory`) instead of files,
 * - http-01 answered by the application's own HTTP server (a custom `Http01Responder`),
 * - everything else as the `acme` CLI has it: `AcmeProtocol`, the deterministic `Planner`, the
 *   `Reporter`, and the configuration as a value.
 *
 * A local Pebble plays the CA. Run it with `pnpm --filter @acme/examples embedded-renewal`.
 */
import * as http from "node:http"
import { Pebble, PebbleHttpClient } from "@acme/testing"
import {
  AcmeProtocol,
  CertificateName,
  ChallengeSolver,
  Planner,
  Renewal,
  RenewalConfig,
  RenewalSettings,
  Reporter,
  Storage
} from "@acme/sdk"
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Option, Schema } from "effect"

/** The application's HTTP server, which also answers ACME http-01 challenges from a token map. */
class AppServer extends Effect.Service<AppServer>()("example/AppServer", {
  scoped: Effect.gen(function*() {
    const pebble = yield* Pebble.Pebble
    const tokens = new Map<string, string>()
    const server = http.createServer((request, response) => {
      const token = /^\/\.well-known\/acme-challenge\/([\w-]+)$/.exec(request.url ?? "")?.[1]
      const answer = token === undefined ? undefined : tokens.get(token)
      response.writeHead(answer === undefined ? 404 : 200, { "content-type": "text/plain" })
      response.end(answer ?? "hello from the app")
    })
    yield* Effect.acquireRelease(
      Effect.async<void>((resume) => {
        server.listen(pebble.httpPort, "127.0.0.1", () => resume(Effect.void))
        return Effect.void
      }),
      () =>
        Effect.async<void>((resume) => {
          server.close(() => resume(Effect.void))
        })
    )
    return { tokens } as const
  })
}) {}

/** http-01, answered by the app's server: present puts the token in its map, cleanup takes it out. */
const Http01InTheApp = Layer.effect(
  ChallengeSolver.Http01Responder,
  Effect.map(AppServer, ({ tokens }): ChallengeSolver.Responder => ({
    present: (task) => Effect.sync(() => void tokens.set(task.token, task.keyAuthorization)),
    cleanup: (task) => Effect.sync(() => void tokens.delete(task.token))
  }))
)

/** The configuration, as a value (the CLI reads the same shape from a file). */
const Settings = Layer.effect(
  RenewalSettings.RenewalSettings,
  Effect.map(Pebble.Pebble, (pebble) => ({
    config: Schema.decodeUnknownSync(RenewalConfig.RenewalConfig)({
      ca: { directory: pebble.directoryUrl },
      account: { email: "ops@example.test" },
      certificates: [{ name: "app", domains: ["app.example.test", "www.app.example.test"], challenge: { type: "http-01" } }]
    }),
    eab: Option.none()
  }))
)

/** Everything the pipeline needs, over a local Pebble (its http-01 checks go to our app server). */
export const EmbeddedLayer = Layer.mergeAll(
  Layer.unwrapEffect(Effect.map(Pebble.Pebble, (pebble) => AcmeProtocol.layer({ directoryUrl: pebble.directoryUrl })))
    .pipe(Layer.provide(PebbleHttpClient.layer)),
  ChallengeSolver.layer.pipe(Layer.provide(Http01InTheApp), Layer.provide(AppServer.Default)),
  Storage.layerMemory,
  Planner.layer(),
  Reporter.layer,
  Settings
).pipe(Layer.provideMerge(Pebble.layer({ challengeServers: "external" })))

/** Renews (the first run issues, the second finds nothing due) and reads the certificate back. */
export const program = Effect.gen(function*() {
  const first = yield* Renewal.renew()
  const second = yield* Renewal.renew()
  const storage = yield* Storage.Storage
  const stored = yield* storage.loadCertificate(CertificateName.make("app"))
  return { first, second, stored }
})

const main = Effect.gen(function*() {
  const { first, second, stored } = yield* program
  for (const [label, report] of [["first run", first], ["second run", second]] as const) {
    for (const certificate of report.certificates) {
      yield* Console.log(`${label}: ${certificate.name} ${certificate.action} (${certificate.reason})`)
    }
  }
  yield* Option.match(stored, {
    onNone: () => Console.log("nothing stored"),
    onSome: (certificate) =>
      Console.log(
        `in memory: ${certificate.name}, serial ${certificate.metadata.serialNumber}, until ${certificate.metadata.notAfter}`
      )
  })
})

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split("/").pop() ?? "")) {
  main.pipe(Effect.provide(EmbeddedLayer), NodeRuntime.runMain)
}
