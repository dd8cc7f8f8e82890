/**
 * Waiting for a TXT record to show at a zone's authoritative servers: which servers to ask, and
 * the bounded wait (`Waits.propagation`) until all of them answer with the value. `Dns01`
 * re-exports both.
 */
import type * as DnsProvider from "@acme/sdk/DnsProvider"
import * as Waits from "@acme/sdk/Waits"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as DnsResolver from "../DnsResolver.js"
import { parseHostPort, suffixes } from "./names.js"

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

