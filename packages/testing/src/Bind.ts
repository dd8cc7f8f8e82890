/**
 * BIND 9 (`named`, Debian package `bind9`) as a scoped Layer: an authoritative-only DNS server on a
 * free loopback port (UDP and TCP) with test zones and TSIG keys, for tests of RFC 2136 dynamic
 * updates and of dns-01 validation through a real DNS server. It starts in the foreground as the
 * current user with a temporary configuration and is stopped, its directory removed, when the
 * scope closes.
 *
 * By default it serves two zones:
 *
 * - `example.test.`: the TSIG keys may add and delete TXT records anywhere in it
 *   (`update-policy { grant <key> zonesub TXT; }`);
 * - `locked.test.`: no key may update it (updates are answered REFUSED).
 *
 * Give Pebble `dnsServer: bind.server` so that it resolves (and validates dns-01) through it.
 *
 * ```ts
 * import { Bind } from "@acme/testing"
 *
 * layer(Bind.layer(), { excludeTestServices: true })("RFC 2136", (it) => {
 *   it.effect("updates", () => Effect.gen(function*() {
 *     const bind = yield* Bind.Bind
 *     // bind.server = "127.0.0.1:<port>", bind.keys.sha256 = { name, algorithm, secret }
 *   }))
 * })
 * ```
 *
 * @since 0.1.0
 */
import * as Command from "@effect/platform/Command"
import type * as CommandExecutor from "@effect/platform/CommandExecutor"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Crypto from "node:crypto"
import * as Dns from "node:dns"
import { findExecutable } from "./internal/binaries.js"
import * as Ports from "./internal/ports.js"
import * as Process from "./internal/process.js"

/**
 * What went wrong: `NotInstalled` (no `named`), `StartFailed` (it could not start, exited or did
 * not answer in time; the message ends with its last output).
 *
 * @since 0.1.0
 * @category errors
 */
export class BindError extends Data.TaggedError("BindError")<{
  readonly reason: "NotInstalled" | "StartFailed"
  readonly message: string
}> {}

/**
 * A zone BIND serves. `records` are extra lines of its zone file (relative names allowed, e.g.
 * `"_acme-challenge.alias CNAME _acme-challenge.target.other.test."`); the SOA, an NS `ns1` and its
 * A record (127.0.0.1) are always there.
 *
 * @since 0.1.0
 * @category models
 */
export interface Zone {
  /** without the trailing dot */
  readonly name: string
  /** may the TSIG keys add and remove TXT records in it */
  readonly updatable: boolean
  readonly records?: ReadonlyArray<string> | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface BindOptions {
  /** default: `example.test` (updatable) and `locked.test` (not) */
  readonly zones?: ReadonlyArray<Zone> | undefined
  /** `named`: a path or a name on PATH; default `$NAMED_BIN`, else `named` on PATH, else `/usr/sbin/named` */
  readonly namedBin?: string | undefined
  /** default 15 seconds */
  readonly startTimeout?: Duration.DurationInput | undefined
  /** echo named's output to stderr; default: `ACME_TEST_VERBOSE` is `1` or `true` */
  readonly verbose?: boolean | undefined
}

/**
 * A TSIG key as named.conf knows it: `secret` is base64.
 *
 * @since 0.1.0
 * @category models
 */
export interface TsigKey {
  /** with the trailing dot, e.g. `acme-test-sha256.` */
  readonly name: string
  readonly algorithm: "hmac-sha256" | "hmac-sha512"
  readonly secret: string
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** `127.0.0.1:<port>`: give it to Pebble as `dnsServer`, to an RFC 2136 client as its server */
  readonly server: string
  readonly port: number
  readonly zones: ReadonlyArray<Zone>
  /** two keys, both allowed to update the updatable zones */
  readonly keys: { readonly sha256: TsigKey; readonly sha512: TsigKey }
  /** holds named.conf, the zone files and their journals; removed when the scope closes */
  readonly tempDirectory: string
  readonly pid: number
  /** the last lines (up to 200) named printed */
  readonly recentOutput: Effect.Effect<ReadonlyArray<string>>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Bind extends Context.Tag("@acme/testing/Bind")<Bind, Service>() {}

const defaultZones: ReadonlyArray<Zone> = [
  { name: "example.test", updatable: true },
  { name: "locked.test", updatable: false }
]

const startFailed = (message: string) => new BindError({ reason: "StartFailed", message })

const isTruthyEnv = (value: string | undefined): boolean => value === "1" || value?.toLowerCase() === "true"

const findNamed = (configured: string | undefined): Effect.Effect<string, BindError> =>
  Effect.suspend(() => {
    const candidates = configured !== undefined
      ? [configured]
      : [process.env["NAMED_BIN"], "named", "/usr/sbin/named"].filter((c): c is string =>
        c !== undefined && c.length > 0
      )
    for (const candidate of candidates) {
      const found = findExecutable(candidate)
      if (Option.isSome(found)) return Effect.succeed(found.value)
    }
    return Effect.fail(
      new BindError({
        reason: "NotInstalled",
        message: `named (BIND 9) is not installed (looked for ${candidates.map((c) => JSON.stringify(c)).join(", ")}); ` +
          "install it with: apt-get install -y bind9 (or set NAMED_BIN)"
      })
    )
  })

const zoneFile = (zone: Zone): string =>
  [
    "$TTL 60",
    `@ IN SOA ns1.${zone.name}. hostmaster.${zone.name}. 1 60 60 600 60`,
    `@ IN NS ns1.${zone.name}.`,
    "ns1 IN A 127.0.0.1",
    ...(zone.records ?? []),
    ""
  ].join("\n")

const namedConf = (directory: string, port: number, zones: ReadonlyArray<Zone>, keys: ReadonlyArray<TsigKey>) =>
  [
    "options {",
    `  directory "${directory}";`,
    "  pid-file none;",
    "  session-keyfile none;",
    `  listen-on port ${port} { 127.0.0.1; };`,
    "  listen-on-v6 { none; };",
    "  recursion no;",
    "  allow-query { any; };",
    "  dnssec-validation no;",
    "  notify no;",
    "};",
    "controls { };",
    ...keys.map((key) => `key "${key.name}" { algorithm ${key.algorithm}; secret "${key.secret}"; };`),
    ...zones.map((zone) =>
      `zone "${zone.name}" { type primary; file "${zone.name}.zone";${
        zone.updatable ? ` update-policy { ${keys.map((key) => `grant ${key.name} zonesub TXT;`).join(" ")} };` : ""
      } };`
    ),
    ""
  ].join("\n")

/** the SOA of the first zone, asked of this server only */
const soaAnswered = (port: number, zone: string): Effect.Effect<void, string> =>
  Effect.async<void, string>((resume) => {
    const resolver = new Dns.Resolver({ timeout: 500, tries: 1 })
    resolver.setServers([`127.0.0.1:${port}`])
    resolver.resolveSoa(zone, (error) => resume(error === null ? Effect.void : Effect.fail(error.message)))
    return Effect.sync(() => resolver.cancel())
  })

const makeWith = (
  options: BindOptions
): Effect.Effect<Service, BindError, Scope.Scope | FileSystem.FileSystem | Path.Path | CommandExecutor.CommandExecutor> =>
  Effect.gen(function*() {
    const named = yield* findNamed(options.namedBin)
    const zones = options.zones ?? defaultZones
    const startTimeout = Duration.decode(options.startTimeout ?? "15 seconds")
    const verbose = options.verbose ?? isTruthyEnv(process.env["ACME_TEST_VERBOSE"])
    const secret = () => Crypto.randomBytes(32).toString("base64")
    const keys = {
      sha256: { name: "acme-test-sha256.", algorithm: "hmac-sha256", secret: secret() },
      sha512: { name: "acme-test-sha512.", algorithm: "hmac-sha512", secret: secret() }
    } as const satisfies Record<string, TsigKey>

    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const tempDirectory = yield* fs.makeTempDirectoryScoped({ prefix: "acme-testing-bind-" }).pipe(
      Effect.mapError((error) => startFailed(`could not create a temporary directory: ${error.message}`))
    )
    const configPath = path.join(tempDirectory, "named.conf")

    const startOnce = Effect.gen(function*() {
      const port = yield* Effect.scoped(Ports.tcpAndUdpPort).pipe(
        Effect.mapError((error) => startFailed(error.message))
      )
      yield* Effect.forEach(zones, (zone) => fs.writeFileString(path.join(tempDirectory, `${zone.name}.zone`), zoneFile(zone)))
        .pipe(
          Effect.zipRight(
            fs.writeFileString(configPath, namedConf(tempDirectory, port, zones, [keys.sha256, keys.sha512]), {
              mode: 0o600
            })
          ),
          Effect.mapError((error) => startFailed(`could not write named's configuration: ${error.message}`))
        )
      // -g: foreground, log to stderr; -n 1: one worker thread (the tests share two cores); -4: IPv4 only
      const running = yield* Process.start(
        "named",
        Command.make(named, "-g", "-n", "1", "-4", "-c", configPath).pipe(Command.workingDirectory(tempDirectory)),
        { verbose }
      ).pipe(Effect.mapError((error) => startFailed(error.message)))
      yield* Process.watchdog([running.pid], tempDirectory).pipe(Effect.mapError((error) => startFailed(error.message)))

      const firstZone = zones[0]?.name ?? "example.test"
      const ready = soaAnswered(port, firstZone).pipe(
        Effect.tapError(() => Effect.sleep("20 millis")),
        Effect.eventually
      )
      const exitedEarly = Effect.flatMap(running.exited, (how) =>
        Effect.flatMap(running.tail, (tail) =>
          Effect.fail(startFailed(`named ${how} before it was ready; its last output:\n${Process.formatTail(tail)}`))))
      yield* ready.pipe(
        Effect.raceFirst(exitedEarly),
        Effect.timeout(startTimeout),
        Effect.catchTag("TimeoutException", () =>
          Effect.flatMap(running.tail, (tail) =>
            Effect.fail(
              startFailed(
                `named did not answer on 127.0.0.1:${port} within ${Duration.format(startTimeout)}; ` +
                  `its last output:\n${Process.formatTail(tail)}`
              )
            )))
      )
      return { port, running }
    })

    // a port picked free may be taken before named binds it: start again on another one
    const started = yield* Process.startRetrying(startOnce, {
      times: 2,
      while: (error) => error.reason === "StartFailed"
    })

    return {
      server: `127.0.0.1:${started.port}`,
      port: started.port,
      zones,
      keys,
      tempDirectory,
      pid: started.running.pid,
      recentOutput: started.running.tail
    }
  })

/**
 * Starts named; it is stopped and its directory removed when the scope closes. Runs on a live clock
 * (it waits on a real process) also under a TestClock.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: BindOptions = {}): Effect.Effect<Service, BindError, Scope.Scope> =>
  Process.onHost(makeWith(options))

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: BindOptions): Layer.Layer<Bind, BindError> => Layer.scoped(Bind, make(options))
