/**
 * The dns-01 and dns-account-01 responder: for each challenge it
 *
 * 1. computes the record name: `_acme-challenge.<name>` for dns-01 (the base name for `*.<name>`:
 *    a wildcard and its base name share one TXT name, each with its own value), or for
 *    dns-account-01 the account's own `_<label>._acme-challenge.<name>`
 *    (`ChallengeResponse.dnsAccount01RecordName`, from the task's account URL; the challenge's
 *    `draft` key picks the older scoped form), which leaves `_acme-challenge.<name>` alone;
 * 2. follows a CNAME there (delegation, e.g. to an acme-dns server or a zone the DNS provider can
 *    update; for dns-account-01 one per account), up to 8 hops, failing on a loop;
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
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as DnsResolver from "./DnsResolver.js"
import { normalise, parseHostPort } from "./internal/names.js"
import { authoritativeServers, waitVisible } from "./internal/propagation.js"

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
    challengeType: task.type,
    identifier: task.identifier.value,
    description
  })

/**
 * The name of a task's TXT record before any CNAME is followed: `_acme-challenge.<name>` for
 * dns-01, the account's own name for dns-account-01 (which needs the task's `accountUrl`).
 *
 * @since 0.1.0
 * @category combinators
 */
export const recordName = (task: ChallengeSolver.ChallengeTask): Effect.Effect<string, ChallengeSolver.ChallengeError> => {
  if (task.type !== "dns-account-01") return Effect.succeed(ChallengeResponse.dns01RecordName(task.identifier))
  const accountUrl = task.accountUrl
  if (accountUrl === undefined) {
    return Effect.fail(
      new ChallengeSolver.ChallengeError({
        reason: "Unsupported",
        challengeType: task.type,
        identifier: task.identifier.value,
        description: "the task carries no account URL, and the dns-account-01 record name is derived from it"
      })
    )
  }
  return ChallengeResponse.dnsAccount01RecordName({
    identifier: task.identifier,
    accountUrl,
    wildcard: task.wildcard,
    draft: task.config.type === "dns-account-01" ? task.config.draft : undefined
  })
}

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

export {
  /**
   * The servers to ask whether a name has the value: the configured `nameservers`, else the
   * authoritative servers of the zone holding the name.
   *
   * @since 0.1.0
   * @category combinators
   */
  authoritativeServers,
  /**
   * One server to ask: its label for messages and its address.
   *
   * @since 0.1.0
   * @category models
   */
  type Target,
  /**
   * Waits until every server answers the value among the TXT values of the name.
   *
   * @since 0.1.0
   * @category combinators
   */
  waitVisible
} from "./internal/propagation.js"

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
        const base = yield* recordName(task)
        const target = yield* followCname(base).pipe(Effect.mapError((d) => challengeError(task, d)))
        const record = { name: target.name, value: yield* ChallengeResponse.dns01TxtValue(task.keyAuthorization) }
        const via = target.chain.length > 1 ? ` (${base} is a CNAME to ${target.name})` : ""
        yield* Effect.annotateCurrentSpan({
          "dns01.type": task.type,
          "dns01.record": record.name,
          "dns01.provider": provider.name
        })
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
        const base = known === undefined ? yield* recordName(task) : known.name
        const record = known !== undefined ? known : {
          name: yield* followCname(base).pipe(Effect.map((target) => target.name), Effect.orElseSucceed(() => base)),
          value: yield* ChallengeResponse.dns01TxtValue(task.keyAuthorization)
        }
        yield* provider.cleanup(record).pipe(Effect.mapError((error) => challengeError(task, error.message)))
        presented.delete(taskKey(task))
      }).pipe(
        Effect.catchAll((error) => Effect.logWarning(`${task.type} cleanup: ${error.message}`)),
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
