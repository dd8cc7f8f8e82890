/**
 * Starting Pebble and challtestsrv once on fresh ports: their config, the two processes, and the
 * readiness checks (Pebble's directory and management interface over TLS with our CA; challtestsrv
 * answering a probe on every port it serves), failing fast on a port taken or a process that exits.
 */
import * as Command from "@effect/platform/Command"
import type * as CommandExecutor from "@effect/platform/CommandExecutor"
import type * as FileSystem from "@effect/platform/FileSystem"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import type { PebbleError } from "../../PebbleError.js"
import * as Ports from "../ports.js"
import * as Probes from "../probes.js"
import * as Process from "../process.js"
import type { ChallengeServers, PebbleOptions } from "./service.js"
import { childEnvironment, oneLine, startFailed } from "./wire.js"

/** @internal */
export interface Resolved {
  readonly pebbleBin: string
  readonly challtestsrvBin: string
  readonly challengeServers: ChallengeServers
  readonly startTimeout: Duration.Duration
  readonly verbose: boolean
}

/** @internal */
export interface Started {
  readonly ports: {
    readonly listen: number
    readonly management: number
    readonly http: number
    readonly tls: number
    readonly dns: number
    readonly challtestsrv: number
  }
  readonly pebble: Process.Running
  readonly challtestsrv: Process.Running
}

/** @internal */
export interface Answer {
  readonly status: number
  readonly body: string
}

/** @internal */
export const pollInterval = Duration.millis(20)

/** @internal */
export const isPortConflict = (error: PebbleError): boolean =>
  error.reason === "StartFailed" && /address already in use/i.test(error.message)

/** @internal */
export interface StartContext {
  readonly options: PebbleOptions
  readonly resolved: Resolved
  readonly fs: FileSystem.FileSystem
  /** holds the config, certificate and key; the processes' working directory */
  readonly tempDirectory: string
  readonly certificatePath: string
  readonly privateKeyPath: string
  readonly configPath: string
  /** one request to Pebble or challtestsrv, on a live clock */
  readonly send: (request: HttpClientRequest.HttpClientRequest) => Effect.Effect<Answer, string>
}

/** @internal */
export const startOnce = (
  context: StartContext
): Effect.Effect<Started, PebbleError, Scope.Scope | CommandExecutor.CommandExecutor> => {
  const { certificatePath, configPath, fs, options, privateKeyPath, resolved, send, tempDirectory } = context
  return Effect.gen(function*() {
    const ports = yield* Effect.scoped(Effect.all({
      listen: Ports.tcpPort,
      management: Ports.tcpPort,
      http: Ports.tcpPort,
      tls: Ports.tcpPort,
      dns: Ports.tcpAndUdpPort,
      challtestsrv: Ports.tcpPort
    }))
    const config = {
      pebble: {
        listenAddress: `127.0.0.1:${ports.listen}`,
        managementListenAddress: `127.0.0.1:${ports.management}`,
        certificate: certificatePath,
        privateKey: privateKeyPath,
        httpPort: ports.http,
        tlsPort: ports.tls,
        ocspResponderURL: "",
        externalAccountBindingRequired: options.eab?.required ?? false,
        ...(options.eab === undefined ? {} : { externalAccountMACKeys: options.eab.keys }),
        ...(options.certificateValidityPeriodSeconds === undefined
          ? {}
          : { certificateValidityPeriod: options.certificateValidityPeriodSeconds })
      }
    }
    yield* fs.writeFileString(configPath, JSON.stringify(config, null, 2)).pipe(
      Effect.mapError((error) => startFailed(`could not write Pebble's config: ${error.message}`))
    )

    const external = resolved.challengeServers === "external"
    const challtestsrv = yield* Process.start(
      "pebble-challtestsrv",
      Command.make(
        resolved.challtestsrvBin,
        ...[
          ["-defaultIPv4", "127.0.0.1"],
          ["-defaultIPv6", ""],
          ["-dns01", `127.0.0.1:${ports.dns}`],
          ["-http01", external ? "" : `127.0.0.1:${ports.http}`],
          ["-https01", ""],
          ["-tlsalpn01", external ? "" : `127.0.0.1:${ports.tls}`],
          ["-management", `127.0.0.1:${ports.challtestsrv}`]
        ].flat()
      ).pipe(Command.env(childEnvironment({}), { extendEnv: false }), Command.workingDirectory(tempDirectory)),
      { verbose: resolved.verbose }
    )
    const pebble = yield* Process.start(
      "pebble",
      Command.make(
        resolved.pebbleBin,
        "-config",
        configPath,
        "-dnsserver",
        options.dnsServer ?? `127.0.0.1:${ports.dns}`,
        ...(options.strict === true ? ["-strict"] : [])
      ).pipe(
        Command.env(
          childEnvironment({
            PEBBLE_VA_NOSLEEP: "1",
            PEBBLE_WFE_NONCEREJECT: String(options.nonceRejectPercent ?? 0),
            PEBBLE_AUTHZREUSE: String(options.authzReusePercent ?? 0),
            PEBBLE_VA_ALWAYS_VALID: options.alwaysValid === true ? "1" : "0",
            PEBBLE_ALTERNATE_ROOTS: String(options.alternateRoots ?? 0),
            PEBBLE_CHAIN_LENGTH: String(options.chainLength ?? 1)
          }),
          { extendEnv: false }
        ),
        Command.workingDirectory(tempDirectory)
      ),
      { verbose: resolved.verbose }
    )

    yield* Process.watchdog([challtestsrv.pid, pebble.pid], tempDirectory)

    // Readiness. Pebble: the directory and the management interface answer 200 over TLS with our
    // CA (another harness's Pebble on a stolen port would fail TLS verification). challtestsrv:
    // its management API answers, and a unique probe registered through it comes back on the DNS
    // port (and on the http-01 and tls-alpn-01 ports when it serves them): challtestsrv keeps
    // running when it cannot bind those, so its management API alone proves nothing.
    const pebbleState = yield* Ref.make("no answer yet")
    const challtestsrvState = yield* Ref.make("no answer yet")
    const poll = (state: Ref.Ref<string>, check: Effect.Effect<void, string>) =>
      check.pipe(
        Effect.tapError((reason) => Ref.set(state, reason).pipe(Effect.zipRight(Effect.sleep(pollInterval)))),
        Effect.eventually,
        Effect.zipRight(Ref.set(state, "ready"))
      )
    const expect200 = (request: HttpClientRequest.HttpClientRequest) =>
      send(request).pipe(
        Effect.filterOrFail(
          (answer) => answer.status === 200,
          (answer) => `${request.method} ${request.url} answered ${answer.status}: ${oneLine(answer.body, 120)}`
        )
      )
    const challtestsrvBase = `http://127.0.0.1:${ports.challtestsrv}`
    const post = (operation: string, body: Record<string, unknown>) =>
      expect200(
        HttpClientRequest.post(`${challtestsrvBase}/${operation}`).pipe(HttpClientRequest.bodyUnsafeJson(body))
      )
    const probe = globalThis.crypto.randomUUID()
    const probeHost = `probe-${probe}.acme-testing.invalid`
    const probeAddress = "192.0.2.1" // TEST-NET-1: only our challtestsrv answers it for this name
    const pebbleCheck = Effect.all([
      expect200(HttpClientRequest.get(`https://127.0.0.1:${ports.listen}/dir`)),
      expect200(HttpClientRequest.get(`https://127.0.0.1:${ports.management}/roots/0`))
    ], { discard: true })
    const challtestsrvCheck = Effect.gen(function*() {
      yield* post("set-default-ipv4", { ip: "127.0.0.1" })
      yield* post("add-a", { host: `${probeHost}.`, addresses: [probeAddress] })
      const addresses = yield* Probes.resolve4(ports.dns, probeHost)
      if (addresses.join(",") !== probeAddress) {
        return yield* Effect.fail(`DNS on port ${ports.dns} is not our challtestsrv (answered ${addresses.join(",")})`)
      }
      if (external) return
      yield* post("add-http01", { token: probe, content: probe })
      const http01 = yield* send(
        HttpClientRequest.get(`http://127.0.0.1:${ports.http}/.well-known/acme-challenge/${probe}`)
      )
      if (http01.body !== probe) {
        return yield* Effect.fail(`http-01 on port ${ports.http} is not our challtestsrv (answered ${http01.status})`)
      }
      yield* post("add-tlsalpn01", { host: probeHost, content: probe })
      const subjectAltName = yield* Probes.tlsAlpnSubjectAltName(ports.tls, probeHost)
      if (!subjectAltName.includes(`DNS:${probeHost}`)) {
        return yield* Effect.fail(`tls-alpn-01 on port ${ports.tls} is not our challtestsrv`)
      }
    })
    const removeProbes = Effect.all([
      post("clear-a", { host: `${probeHost}.` }),
      ...(external ? [] : [post("del-http01", { token: probe }), post("del-tlsalpn01", { host: probeHost })])
    ], { discard: true }).pipe(Effect.ignore)
    const ready = Effect.all([poll(pebbleState, pebbleCheck), poll(challtestsrvState, challtestsrvCheck)], {
      concurrency: "unbounded",
      discard: true
    })
    const exitedEarly = (running: Process.Running) =>
      Effect.flatMap(running.exited, (how) =>
        Effect.flatMap(running.tail, (tail) =>
          Effect.fail(
            startFailed(`${running.name} ${how} before it was ready; its last output:\n${Process.formatTail(tail)}`)
          )))
    // fail fast (and start again on other ports) when a process reports a port taken
    const portConflict = (running: Process.Running) =>
      Effect.gen(function*() {
        for (;;) {
          const line = (yield* running.tail).find((l) => /address already in use/i.test(l))
          if (line !== undefined) {
            return yield* Effect.fail(startFailed(`${running.name} could not listen: ${oneLine(line)}`))
          }
          yield* Effect.sleep(pollInterval)
        }
      })
    const timedOut = Effect.gen(function*() {
      const states = [[pebble, yield* Ref.get(pebbleState)], [challtestsrv, yield* Ref.get(challtestsrvState)]] as const
      const tails: Array<string> = []
      for (const [running, state] of states) {
        if (state !== "ready") {
          tails.push(`last output of ${running.name}:\n${Process.formatTail(yield* running.tail)}`)
        }
      }
      const summary = states.map(([running, state]) => `${running.name}: ${state}`).join("; ")
      return yield* Effect.fail(
        startFailed(
          `Pebble did not become ready within ${Duration.format(resolved.startTimeout)} (${summary}); ${
            tails.join("\n")
          }`
        )
      )
    })
    yield* ready.pipe(
      Effect.raceFirst(exitedEarly(pebble)),
      Effect.raceFirst(exitedEarly(challtestsrv)),
      Effect.raceFirst(portConflict(pebble)),
      Effect.raceFirst(portConflict(challtestsrv)),
      Effect.timeout(resolved.startTimeout),
      Effect.catchTag("TimeoutException", () => timedOut)
    )
    yield* removeProbes
    return { ports, pebble, challtestsrv }

  })
}
