/**
 * The dns-01 responder: for each challenge it
 *
 * 1. computes `_acme-challenge.<name>` (the base name for `*.<name>`: a wildcard and its base name
 *    share one TXT name, each with its own value);
 * 2. follows a CNAME there (delegation, e.g. to an acme-dns server or a zone the DNS provider can
 *    update), up to 8 hops, failing on a loop;
 * 3. asks the certificate's DNS provider to add the TXT value at the final name;
 * 4. waits, with a bounded Schedule (`Waits.propagation` from `@acme/sdk`: 2 minutes, every 2 seconds by default), until
 *    every authoritative server of the zone answers with the value: the zone is found by SOA
 *    lookups up the name, its servers by NS and address lookups (or they are the configured
 *    `nameservers`);
 *
 * and on cleanup removes exactly that value. Which provider (and propagation settings) a task uses
 * is the caller's `resolve`: the CLI builds it from the certificate's `challenge:` section.
 *
 * ```ts
 * const responder = Dns01.layer(() => Effect.succeed({ provider, propagation: { timeout: "5 minutes" } }))
 *   .pipe(Layer.provide(DnsResolver.layer()))
 * ```
 *
 * @since 0.1.0
 */
import * as ChallengeResponse from "@acme/sdk/ChallengeResponse"
import * as ChallengeSolver from "@acme/sdk/ChallengeSolver"
import type * as DnsProvider from "@acme/sdk/DnsProvider"
import * as RenewalConfig from "@acme/sdk/RenewalConfig"
import * as Waits from "@acme/sdk/Waits"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as DnsResolver from "./DnsResolver.js"
import { normalise, parseHostPort, suffixes } from "./internal/names.js"

const Nameserver = Schema.String.pipe(
  Schema.filter((s) =>
    parseHostPort(s, 53) !== undefined || `"${s}" is not a name server; write host, host:port or [IPv6]:port`
  )
)

/**
 * How long and where to wait for the TXT record before the challenge is answered (the
 * `propagation:` key of a dns-01 challenge).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Propagation = Schema.Struct({
  /**
   * the servers to ask (`host`, `host:port`, `[IPv6]:port`) instead of the zone's NS records: for
   * split-horizon setups, hidden primaries, test servers on other ports
   */
  nameservers: Schema.optional(Schema.Array(Nameserver).pipe(Schema.minItems(1))),
  /** give up after this long; default 2 minutes (`Waits.defaultPropagationTimeout`) */
  timeout: Schema.optionalWith(RenewalConfig.DurationText, { default: () => Waits.defaultPropagationTimeout }),
  /** ask again after this long; default 2 seconds (`Waits.defaultPropagationInterval`) */
  interval: Schema.optionalWith(RenewalConfig.DurationText, { default: () => Waits.defaultPropagationInterval }),
  /** `false`: answer the challenge right after the provider accepted the record (no check) */
  check: Schema.optionalWith(Schema.Boolean, { default: () => true })
})

/**
 * @since 0.1.0
 * @category models
 */
export type Propagation = typeof Propagation.Type

/**
 * The propagation settings when none are given: the zone's NS, 2 minutes, every 2 seconds.
 *
 * @since 0.1.0
 * @category constructors
 */
export const defaultPropagation: Propagation = Schema.decodeSync(Propagation)({})

/**
 * Propagation settings as code writes them: any field left out takes its default.
 *
 * @since 0.1.0
 * @category models
 */
export interface PropagationInput {
  readonly nameservers?: ReadonlyArray<string> | undefined
  readonly timeout?: Duration.DurationInput | undefined
  readonly interval?: Duration.DurationInput | undefined
  readonly check?: boolean | undefined
}

/**
 * What answers one task: a provider, and optionally propagation settings (any field left out takes
 * its default).
 *
 * @since 0.1.0
 * @category models
 */
export interface Setup {
  readonly provider: DnsProvider.Service
  readonly propagation?: PropagationInput | undefined
}

/**
 * Finds the provider for a task (from its certificate's challenge configuration).
 *
 * @since 0.1.0
 * @category models
 */
export type Resolve = (
  task: ChallengeSolver.ChallengeTask
) => Effect.Effect<DnsProvider.Service | Setup, ChallengeSolver.ChallengeError>

/**
 * The most CNAME hops followed from `_acme-challenge.<name>`.
 *
 * @since 0.1.0
 * @category models
 */
export const maxCnameDepth = 8

const challengeError = (task: ChallengeSolver.ChallengeTask, description: string) =>
  new ChallengeSolver.ChallengeError({
    reason: "Provider",
    challengeType: "dns-01",
    identifier: task.identifier.value,
    description
  })

const isSetup = (resolved: DnsProvider.Service | Setup): resolved is Setup => "provider" in resolved

/**
 * The name the TXT record goes to: `name`, or where its CNAME chain ends. Fails on a loop or a
 * chain longer than {@link maxCnameDepth}.
 *
 * @since 0.1.0
 * @category combinators
 */
export const followCname = (name: string): Effect.Effect<
  { readonly name: string; readonly chain: ReadonlyArray<string> },
  string,
  DnsResolver.DnsResolver
> =>
  Effect.gen(function*() {
    const resolver = yield* DnsResolver.DnsResolver
    const chain = [normalise(name)]
    for (;;) {
      const current = chain[chain.length - 1] ?? normalise(name)
      const target = yield* resolver.cname(current).pipe(
        Effect.mapError((error) => `could not look up the CNAME of ${current}: ${error.message}`)
      )
      if (Option.isNone(target)) return { name: current, chain }
      if (chain.includes(target.value)) {
        return yield* Effect.fail(
          `the CNAME chain loops (${[...chain, target.value].join(" -> ")}); fix the _acme-challenge CNAME`
        )
      }
      chain.push(target.value)
      if (chain.length > maxCnameDepth + 1) {
        return yield* Effect.fail(
          `the CNAME chain from ${chain[0]} is longer than ${maxCnameDepth} hops; point _acme-challenge closer to its target`
        )
      }
    }
  })

/** one server to ask: its label for messages and its address */
/**
 * @since 0.1.0
 * @category models
 */
export interface Target {
  readonly label: string
  readonly address: string
}

const withPort = (address: string, port: number) =>
  port === 53 ? address : address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`

/**
 * The servers to ask whether `name` has the value: the configured `nameservers`, else the
 * authoritative servers of the zone holding `name` (the nearest parent with an SOA; its NS; their
 * addresses).
 *
 * @since 0.1.0
 * @category combinators
 */
export const authoritativeServers = (
  name: string,
  nameservers: ReadonlyArray<string> | undefined
): Effect.Effect<ReadonlyArray<Target>, string, DnsResolver.DnsResolver> =>
  Effect.gen(function*() {
    const resolver = yield* DnsResolver.DnsResolver
    const addressesOf = (host: string, port: number, label: string) =>
      resolver.addresses(host).pipe(
        Effect.mapError((error) => `could not find the addresses of name server ${host}: ${error.message}`),
        Effect.flatMap((addresses) =>
          addresses.length === 0
            ? Effect.fail(`name server ${host} has no address`)
            : Effect.succeed(addresses.map((address) => ({ label, address: withPort(address, port) })))
        )
      )
    if (nameservers !== undefined && nameservers.length > 0) {
      const targets = yield* Effect.forEach(nameservers, (server) => {
        const parsed = parseHostPort(server, 53)
        return parsed === undefined
          ? Effect.fail(`"${server}" is not a name server; write host, host:port or [IPv6]:port`)
          : addressesOf(parsed.host, parsed.port, server)
      })
      return targets.flat()
    }
    let zone: string | undefined = undefined
    for (const candidate of suffixes(name)) {
      const apex = yield* resolver.isZoneApex(candidate).pipe(
        Effect.mapError((error) => `could not find the zone of ${name}: ${error.message}`)
      )
      if (apex) {
        zone = candidate
        break
      }
    }
    if (zone === undefined) {
      return yield* Effect.fail(
        `could not find the zone of ${name} (no SOA at it or any parent); set propagation.nameservers`
      )
    }
    const hosts = yield* resolver.nameservers(zone).pipe(
      Effect.mapError((error) => `could not find the name servers of zone ${zone}: ${error.message}`)
    )
    if (hosts.length === 0) {
      return yield* Effect.fail(`zone ${zone} has no NS records; set propagation.nameservers`)
    }
    const targets = yield* Effect.forEach(hosts, (host) => addressesOf(host, 53, host), { concurrency: "unbounded" })
    return targets.flat()
  })

/**
 * Waits until every server answers `value` among the TXT values of `name`: asks all of them, then
 * again after `interval` those that did not have it, until `timeout`. A name server with several
 * addresses (IPv4 and IPv6) counts as having it when one of its addresses answers with it, so an
 * address this machine cannot reach does not block. The failure names the servers that never had it.
 *
 * @since 0.1.0
 * @category combinators
 */
export const waitVisible = (
  record: DnsProvider.TxtRecord,
  servers: ReadonlyArray<Target>,
  options: { readonly timeout: Duration.DurationInput; readonly interval: Duration.DurationInput }
): Effect.Effect<void, string, DnsResolver.DnsResolver> =>
  Effect.gen(function*() {
    const resolver = yield* DnsResolver.DnsResolver
    const byLabel = new Map<string, Array<string>>()
    for (const server of servers) byLabel.set(server.label, [...(byLabel.get(server.label) ?? []), server.address])
    let missing: ReadonlyArray<string> = [...byLabel.keys()]
    const lastErrors = new Map<string, string>()
    const hasIt = (label: string) =>
      Effect.forEach(byLabel.get(label) ?? [], (address) =>
        resolver.txt(record.name, address).pipe(
          Effect.map((values) => values.includes(record.value)),
          Effect.catchAll((error) => {
            lastErrors.set(label, error.description)
            return Effect.succeed(false)
          })
        ), { concurrency: "unbounded" }).pipe(
          Effect.map((answers) => answers.some((yes) => yes)),
          Effect.tap((yes) => yes ? Effect.sync(() => lastErrors.delete(label)) : Effect.void)
        )
    const check = Effect.gen(function*() {
      const stillMissing = yield* Effect.filter(missing, (label) => Effect.map(hasIt(label), (yes) => !yes), {
        concurrency: "unbounded"
      })
      missing = stillMissing
      if (stillMissing.length > 0) return yield* Effect.fail(stillMissing)
    })
    const timeout = Duration.decode(options.timeout)
    yield* check.pipe(
      Effect.retry(Waits.propagation({ interval: options.interval, timeout })),
      Effect.mapError((labels) => {
        const errors = labels.flatMap((label) => {
          const error = lastErrors.get(label)
          return error === undefined ? [] : [`${label}: ${error}`]
        })
        return `TXT record ${record.name} not visible at ${labels.join(",")} after ${Duration.format(timeout)}` +
          `${errors.length === 0 ? "" : ` (${errors.join("; ")})`}; check the provider/zone`
      })
    )
  })

const taskKey = (task: ChallengeSolver.ChallengeTask) =>
  `${task.certificate}\u0000${task.identifier.value}\u0000${task.token}`

/**
 * The responder over `resolve`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (resolve: Resolve): Effect.Effect<ChallengeSolver.Responder, never, DnsResolver.DnsResolver> =>
  Effect.gen(function*() {
    const context = yield* Effect.context<DnsResolver.DnsResolver>()
    /** where each presented task's record went (the end of its CNAME chain), for cleanup */
    const presented = new Map<string, DnsProvider.TxtRecord>()
    const setupOf = (task: ChallengeSolver.ChallengeTask) =>
      Effect.map(resolve(task), (resolved) => {
        const setup: Setup = isSetup(resolved) ? resolved : { provider: resolved }
        const given = setup.propagation ?? {}
        const propagation = {
          nameservers: given.nameservers ?? defaultPropagation.nameservers,
          timeout: given.timeout ?? defaultPropagation.timeout,
          interval: given.interval ?? defaultPropagation.interval,
          // a provider whose records are served at once is not checked unless asked to be
          check: given.check ?? (setup.provider.visibleAtOnce === true ? false : defaultPropagation.check)
        }
        return { provider: setup.provider, propagation }
      })

    const present = (task: ChallengeSolver.ChallengeTask) =>
      Effect.gen(function*() {
        const { propagation, provider } = yield* setupOf(task)
        const base = ChallengeResponse.dns01RecordName(task.identifier)
        const target = yield* followCname(base).pipe(Effect.mapError((d) => challengeError(task, d)))
        const record = { name: target.name, value: yield* ChallengeResponse.dns01TxtValue(task.keyAuthorization) }
        const via = target.chain.length > 1 ? ` (${base} is a CNAME to ${target.name})` : ""
        yield* Effect.annotateCurrentSpan({ "dns01.record": record.name, "dns01.provider": provider.name })
        yield* provider.present(record).pipe(Effect.mapError((error) => challengeError(task, `${error.message}${via}`)))
        presented.set(taskKey(task), record)
        if (!propagation.check) return
        const servers = yield* authoritativeServers(record.name, propagation.nameservers).pipe(
          Effect.mapError((d) => challengeError(task, `${d}${via}`))
        )
        yield* waitVisible(record, servers, propagation).pipe(
          Effect.mapError((d) => challengeError(task, `${d}${via}`))
        )
      }).pipe(Effect.provide(context), Effect.withSpan("Dns01.present"))

    const cleanup = (task: ChallengeSolver.ChallengeTask) =>
      Effect.gen(function*() {
        const { provider } = yield* setupOf(task)
        const known = presented.get(taskKey(task))
        const record = known !== undefined ? known : {
          name: yield* followCname(ChallengeResponse.dns01RecordName(task.identifier)).pipe(
            Effect.map((target) => target.name),
            Effect.orElseSucceed(() => ChallengeResponse.dns01RecordName(task.identifier))
          ),
          value: yield* ChallengeResponse.dns01TxtValue(task.keyAuthorization)
        }
        yield* provider.cleanup(record).pipe(Effect.mapError((error) => challengeError(task, error.message)))
        presented.delete(taskKey(task))
      }).pipe(
        Effect.catchAll((error) => Effect.logWarning(`dns-01 cleanup: ${error.message}`)),
        Effect.provide(context),
        Effect.withSpan("Dns01.cleanup")
      )

    return { present, cleanup }
  })

/**
 * `ChallengeSolver.Dns01Responder` over `resolve`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (resolve: Resolve): Layer.Layer<ChallengeSolver.Dns01Responder, never, DnsResolver.DnsResolver> =>
  Layer.effect(ChallengeSolver.Dns01Responder, make(resolve))

/**
 * `ChallengeSolver.Dns01Responder` for one provider (and propagation settings) for every task.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerProvider = (
  provider: DnsProvider.Service,
  propagation?: PropagationInput
): Layer.Layer<ChallengeSolver.Dns01Responder, never, DnsResolver.DnsResolver> =>
  layer(() => Effect.succeed({ provider, propagation }))
