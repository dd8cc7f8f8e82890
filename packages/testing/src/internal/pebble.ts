/**
 * Pebble and challtestsrv as a scoped service: options checked and resolved, a temporary folder
 * with Pebble's TLS material, one HTTP client for both management interfaces, the processes
 * started (again on fresh ports when one was taken), and the service over them.
 */
import type * as CommandExecutor from "@effect/platform/CommandExecutor"
import * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Path from "@effect/platform/Path"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { Agent } from "undici"
import type { PebbleError } from "../PebbleError.js"
import { requireExecutable } from "./binaries.js"
import { generateTlsMaterial } from "./certificates.js"
import { makeService } from "./pebble/management.js"
import type { PebbleOptions, Service } from "./pebble/service.js"
import { type Answer, isPortConflict, type Resolved, startOnce } from "./pebble/start.js"
import { checkCount, describeHttpError, isTruthyEnv, startFailed } from "./pebble/wire.js"
import * as Process from "./process.js"

const makeWith = (
  options: PebbleOptions
): Effect.Effect<
  Service,
  PebbleError,
  Scope.Scope | FileSystem.FileSystem | Path.Path | CommandExecutor.CommandExecutor
> =>
  Effect.gen(function*() {
    yield* checkCount("nonceRejectPercent", options.nonceRejectPercent, 100)
    yield* checkCount("authzReusePercent", options.authzReusePercent, 100)
    yield* checkCount("alternateRoots", options.alternateRoots)
    yield* checkCount("chainLength", options.chainLength)
    yield* checkCount("certificateValidityPeriodSeconds", options.certificateValidityPeriodSeconds)

    const resolved: Resolved = {
      pebbleBin: yield* requireExecutable(
        "pebble",
        options.pebbleBin ?? process.env["PEBBLE_BIN"] ?? "pebble",
        "PEBBLE_BIN"
      ),
      challtestsrvBin: yield* requireExecutable(
        "pebble-challtestsrv",
        options.challtestsrvBin ?? process.env["PEBBLE_CHALLTESTSRV_BIN"] ?? "pebble-challtestsrv",
        "PEBBLE_CHALLTESTSRV_BIN"
      ),
      challengeServers: options.challengeServers ?? "challtestsrv",
      startTimeout: Duration.decode(options.startTimeout ?? "20 seconds"),
      verbose: options.verbose ?? isTruthyEnv(process.env["ACME_TEST_VERBOSE"])
    }

    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const tempDirectory = yield* fs.makeTempDirectoryScoped({ prefix: "acme-testing-pebble-" }).pipe(
      Effect.mapError((error) => startFailed(`could not create a temporary directory: ${error.message}`))
    )
    const tls = yield* generateTlsMaterial
    const certificatePath = path.join(tempDirectory, "pebble-cert.pem")
    const privateKeyPath = path.join(tempDirectory, "pebble-key.pem")
    const configPath = path.join(tempDirectory, "pebble-config.json")
    yield* Effect.all([
      fs.writeFileString(path.join(tempDirectory, "ca.pem"), tls.caPem),
      fs.writeFileString(certificatePath, tls.certificatePem),
      fs.writeFileString(privateKeyPath, tls.privateKeyPem, { mode: 0o600 })
    ]).pipe(Effect.mapError((error) => startFailed(`could not write Pebble's certificate: ${error.message}`)))

    // one client for Pebble (HTTPS with our CA) and challtestsrv (plain HTTP)
    const agent = yield* Effect.acquireRelease(
      Effect.sync(() => new Agent({ connect: { ca: tls.caPem } })),
      (agent) => Effect.promise(() => agent.destroy())
    )
    const client = NodeHttpClient.makeUndici(agent)

    // management calls talk to real processes: their timeout runs on a live clock, also when the
    // calling test drives a TestClock
    const liveClock = Clock.make()
    const send = (request: HttpClientRequest.HttpClientRequest): Effect.Effect<Answer, string> =>
      client.execute(request).pipe(
        Effect.flatMap((response) => Effect.map(response.text, (body) => ({ status: response.status, body }))),
        Effect.mapError(describeHttpError),
        Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => "no answer within 10 seconds" }),
        Effect.withClock(liveClock)
      )

    // Ports are free when picked but may be taken before the processes bind them (another test
    // file starting its own Pebble): start again on fresh ports then. Each attempt gets its own
    // scope so a failed attempt's processes are gone before the next one starts.
    const started = yield* Process.startRetrying(
      startOnce({ options, resolved, fs, tempDirectory, certificatePath, privateKeyPath, configPath, send }),
      { times: 3, while: isPortConflict }
    )
    return makeService({ options, resolved, started, caPem: tls.caPem, tempDirectory, send })
  })

/**
 * Starting waits on real processes, so it runs on a live clock even under @effect/vitest's TestClock
 * (a `layer(...)` without `excludeTestServices` would otherwise never see a poll interval pass).
 *
 * @internal
 */
export const make = (options: PebbleOptions = {}): Effect.Effect<Service, PebbleError, Scope.Scope> =>
  Process.onHost(makeWith(options))
