import * as Command from "@effect/platform/Command"
import type * as CommandExecutor from "@effect/platform/CommandExecutor"
import * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Path from "@effect/platform/Path"
import * as NodeCommandExecutor from "@effect/platform-node/NodeCommandExecutor"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodePath from "@effect/platform-node/NodePath"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { Agent } from "undici"
import type * as Pebble from "../Pebble.js"
import { PebbleError } from "../PebbleError.js"
import { requireExecutable } from "./binaries.js"
import { generateTlsMaterial } from "./certificates.js"
import * as Ports from "./ports.js"
import * as Probes from "./probes.js"
import * as Process from "./process.js"

// ---------------------------------------------------------------------------------------------
// wire formats
// ---------------------------------------------------------------------------------------------

const Extra = Schema.Record({ key: Schema.String, value: Schema.Unknown })

const DirectoryMeta = Schema.Struct({
  termsOfService: Schema.optionalWith(Schema.String, { exact: true }),
  website: Schema.optionalWith(Schema.String, { exact: true }),
  caaIdentities: Schema.optionalWith(Schema.Array(Schema.String), { exact: true }),
  externalAccountRequired: Schema.optionalWith(Schema.Boolean, { exact: true }),
  profiles: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.String }), { exact: true })
}, Extra)

const Directory = Schema.Struct({
  newNonce: Schema.String,
  newAccount: Schema.String,
  newOrder: Schema.String,
  revokeCert: Schema.optionalWith(Schema.String, { exact: true }),
  keyChange: Schema.optionalWith(Schema.String, { exact: true }),
  newAuthz: Schema.optionalWith(Schema.String, { exact: true }),
  renewalInfo: Schema.optionalWith(Schema.String, { exact: true }),
  meta: Schema.optionalWith(DirectoryMeta, { exact: true })
}, Extra)

/** `GET /cert-status-by-serial/<serial>`; Go's `omitempty` drops a zero `Reason` and an empty `RevokedAt` */
const CertificateStatusJson = Schema.Struct({
  Status: Schema.Literal("Valid", "Revoked"),
  Serial: Schema.String,
  Certificate: Schema.String,
  Reason: Schema.optionalWith(Schema.Number, { exact: true }),
  RevokedAt: Schema.optionalWith(Schema.String, { exact: true })
})

const decodeDirectory = Schema.decodeUnknown(Schema.parseJson(Directory))
const decodeCertificateStatus = Schema.decodeUnknown(Schema.parseJson(CertificateStatusJson))

// ---------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------

const management = (message: string) => new PebbleError({ reason: "Management", message })
const startFailed = (message: string) => new PebbleError({ reason: "StartFailed", message })

const oneLine = (text: string, max = 300): string => {
  const line = text.replace(/\s+/g, " ").trim()
  return line.length > max ? `${line.slice(0, max)}...` : line
}

const describeHttpError = (error: HttpClientError.HttpClientError): string => {
  const cause = error.cause
  if (cause instanceof Error) {
    const inner = cause.cause instanceof Error ? `: ${cause.cause.message}` : ""
    return `${cause.message}${inner}`
  }
  return error.message
}

/** DNS names as challtestsrv stores them: lower case, fully qualified with a trailing dot */
const fqdn = (host: string): string => {
  const name = host.trim().toLowerCase()
  return name.endsWith(".") ? name : `${name}.`
}

/** TLS SNI carries no trailing dot: challtestsrv matches tls-alpn-01 hosts against it verbatim */
const sniName = (host: string): string => host.trim().toLowerCase().replace(/\.+$/, "")

/** `%x` of Go's big.Int: lower case, no leading zeros */
const normaliseSerial = (serial: string): Effect.Effect<string, PebbleError> => {
  const hex = serial.trim().toLowerCase().replace(/^0x/, "").replace(/[:\s]/g, "")
  return /^[0-9a-f]+$/.test(hex)
    ? Effect.succeed(hex.replace(/^0+(?=.)/, ""))
    : Effect.fail(management(`certificateStatus: ${JSON.stringify(serial)} is not a hexadecimal serial number`))
}

const isTruthyEnv = (value: string | undefined): boolean => value === "1" || value?.toLowerCase() === "true"

const checkCount = (name: string, value: number | undefined, max = Number.MAX_SAFE_INTEGER) =>
  value === undefined || (Number.isInteger(value) && value >= 0 && value <= max)
    ? Effect.void
    : Effect.fail(startFailed(`invalid option ${name}: ${value} (expected an integer from 0 to ${max})`))

/** the parent's environment without any PEBBLE_* variable: only what the options say reaches Pebble */
const childEnvironment = (extra: Record<string, string>): Record<string, string> => {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith("PEBBLE_")) env[key] = value
  }
  return { ...env, ...extra }
}

interface Resolved {
  readonly pebbleBin: string
  readonly challtestsrvBin: string
  readonly challengeServers: Pebble.ChallengeServers
  readonly startTimeout: Duration.Duration
  readonly verbose: boolean
}

interface Started {
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

interface Answer {
  readonly status: number
  readonly body: string
}

const pollInterval = Duration.millis(20)

const isPortConflict = (error: PebbleError): boolean =>
  error.reason === "StartFailed" && /address already in use/i.test(error.message)

// ---------------------------------------------------------------------------------------------
// make
// ---------------------------------------------------------------------------------------------

const makeWith = (
  options: Pebble.PebbleOptions
): Effect.Effect<
  Pebble.Service,
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

    const startOnce: Effect.Effect<Started, PebbleError, Scope.Scope | CommandExecutor.CommandExecutor> = Effect.gen(
      function*() {
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
      }
    )

    // Ports are free when picked but may be taken before the processes bind them (another test
    // file starting its own Pebble): start again on fresh ports then. Each attempt gets its own
    // scope so a failed attempt's processes are gone before the next one starts.
    const started = yield* Process.startRetrying(startOnce, { times: 3, while: isPortConflict })

    const { ports } = started
    const managementUrl = `https://127.0.0.1:${ports.management}`
    const challtestsrvUrl = `http://127.0.0.1:${ports.challtestsrv}`
    const directoryUrl = `https://127.0.0.1:${ports.listen}/dir`

    const get = (url: string) => send(HttpClientRequest.get(url)).pipe(Effect.mapError((e) => management(`GET ${url}: ${e}`)))

    const pem = (kind: "roots" | "intermediates", index: number | undefined) =>
      Effect.gen(function*() {
        const n = index ?? 0
        if (!Number.isInteger(n) || n < 0) {
          return yield* Effect.fail(management(`${kind}/${n}: the index must be a non-negative integer`))
        }
        const url = `${managementUrl}/${kind}/${n}`
        const answer = yield* get(url)
        if (answer.status === 404) {
          return yield* Effect.fail(
            management(
              `GET ${url} answered 404: Pebble has no ${kind === "roots" ? "root" : "intermediate"} ${n} ` +
                `(it has 1 + alternateRoots of them, numbered from 0)`
            )
          )
        }
        if (answer.status !== 200 || !answer.body.includes("-----BEGIN CERTIFICATE-----")) {
          return yield* Effect.fail(management(`GET ${url} answered ${answer.status}: ${oneLine(answer.body)}`))
        }
        return answer.body
      })

    const challtestsrvPost = (operation: string, body: Record<string, unknown>) => {
      const url = `${challtestsrvUrl}/${operation}`
      return send(HttpClientRequest.post(url).pipe(HttpClientRequest.bodyUnsafeJson(body))).pipe(
        Effect.mapError((e) => management(`POST ${url}: ${e}`)),
        Effect.flatMap((answer) =>
          answer.status === 200
            ? Effect.void
            : Effect.fail(management(`POST ${url} answered ${answer.status}: ${oneLine(answer.body)}`))
        )
      )
    }

    const needsChalltestsrv = (operation: string) =>
      resolved.challengeServers === "challtestsrv"
        ? Effect.void
        : Effect.fail(
          management(
            `${operation} needs challengeServers: "challtestsrv"; with "external" your own server on ` +
              `127.0.0.1:${operation.includes("Http01") ? ports.http : ports.tls} answers Pebble`
          )
        )

    const service: Pebble.Service = {
      directoryUrl,
      managementUrl,
      challtestsrvUrl,
      caBundle: tls.caPem,
      httpPort: ports.http,
      tlsPort: ports.tls,
      dnsPort: ports.dns,
      dnsServer: options.dnsServer ?? `127.0.0.1:${ports.dns}`,
      challengeServers: resolved.challengeServers,
      tempDirectory,
      processIds: { pebble: started.pebble.pid, challtestsrv: started.challtestsrv.pid },
      recentOutput: Effect.all({ pebble: started.pebble.tail, challtestsrv: started.challtestsrv.tail }),
      directory: get(directoryUrl).pipe(
        Effect.filterOrFail(
          (answer) => answer.status === 200,
          (answer) => management(`GET ${directoryUrl} answered ${answer.status}: ${oneLine(answer.body)}`)
        ),
        Effect.flatMap((answer) =>
          decodeDirectory(answer.body).pipe(
            Effect.mapError((error) => management(`GET ${directoryUrl}: not an ACME directory: ${oneLine(error.message)}`))
          )
        )
      ),
      rootCertificate: (index) => pem("roots", index),
      intermediateCertificate: (index) => pem("intermediates", index),
      certificateStatus: (serialHex) =>
        Effect.gen(function*() {
          const serial = yield* normaliseSerial(serialHex)
          const url = `${managementUrl}/cert-status-by-serial/${serial}`
          const answer = yield* get(url)
          if (answer.status === 404) {
            return yield* Effect.fail(management(`Pebble has issued no certificate with serial ${serial} (GET ${url}: 404)`))
          }
          if (answer.status !== 200) {
            return yield* Effect.fail(management(`GET ${url} answered ${answer.status}: ${oneLine(answer.body)}`))
          }
          const json = yield* decodeCertificateStatus(answer.body).pipe(
            Effect.mapError((error) => management(`GET ${url}: unexpected answer: ${oneLine(error.message)}`))
          )
          const revoked = json.Status === "Revoked"
          const status: Pebble.CertificateStatus = {
            status: json.Status,
            serial: json.Serial,
            certificate: json.Certificate,
            ...(revoked ? { reason: json.Reason ?? 0 } : {}),
            ...(json.RevokedAt === undefined ? {} : { revokedAt: json.RevokedAt })
          }
          return status
        }),
      setTxt: (host, value) => challtestsrvPost("set-txt", { host: fqdn(host), value }),
      clearTxt: (host) => challtestsrvPost("clear-txt", { host: fqdn(host) }),
      addHttp01: (token, content) =>
        needsChalltestsrv("addHttp01").pipe(Effect.zipRight(challtestsrvPost("add-http01", { token, content }))),
      removeHttp01: (token) => challtestsrvPost("del-http01", { token }),
      addTlsAlpn01: (host, keyAuthorization) =>
        needsChalltestsrv("addTlsAlpn01").pipe(
          Effect.zipRight(challtestsrvPost("add-tlsalpn01", { host: sniName(host), content: keyAuthorization }))
        ),
      removeTlsAlpn01: (host) => challtestsrvPost("del-tlsalpn01", { host: sniName(host) }),
      addA: (host, addresses) => challtestsrvPost("add-a", { host: fqdn(host), addresses }),
      clearA: (host) => challtestsrvPost("clear-a", { host: fqdn(host) })
    }
    return service
  })

/** only what starting the processes needs: no Terminal, no Worker */
const platformLayer = Layer.mergeAll(NodeCommandExecutor.layer, NodePath.layer).pipe(
  Layer.provideMerge(NodeFileSystem.layer)
)

/**
 * Starting waits on real processes, so it runs on a live clock even under @effect/vitest's TestClock
 * (a `layer(...)` without `excludeTestServices` would otherwise never see a poll interval pass).
 *
 * @internal
 */
export const make = (options: Pebble.PebbleOptions = {}): Effect.Effect<Pebble.Service, PebbleError, Scope.Scope> =>
  makeWith(options).pipe(Effect.provide(platformLayer), Effect.withClock(Clock.make()))
