/**
 * The DNS lookups the dns-01 responder makes: CNAME (delegation), SOA (which zone holds a name),
 * NS and addresses (the zone's authoritative servers), and TXT asked of one server. The default
 * Layer wraps node:dns's `Resolver`: recursive lookups go to the system's resolvers (or the
 * configured ones), TXT lookups to exactly the server named. Tests provide their own.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Dns from "node:dns"
import * as Net from "node:net"
import { normalise, parseHostPort } from "./internal/names.js"

/**
 * A lookup failed for another reason than "no such name" or "no such record" (those are empty
 * answers): a timeout, a refusal, a server failure.
 *
 * @since 0.1.0
 * @category errors
 */
export class DnsLookupError extends Data.TaggedError("DnsLookupError")<{
  readonly name: string
  readonly type: string
  /** the server asked, when it was one server */
  readonly server?: string | undefined
  readonly description: string
}> {
  override get message(): string {
    return `${this.type} ${this.name}${this.server === undefined ? "" : ` at ${this.server}`}: ${this.description}`
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** the target of a CNAME at `name` (without the trailing dot), if there is one */
  readonly cname: (name: string) => Effect.Effect<Option.Option<string>, DnsLookupError>
  /** whether `name` is a zone apex (has an SOA record) */
  readonly isZoneApex: (name: string) => Effect.Effect<boolean, DnsLookupError>
  /** the NS names of a zone */
  readonly nameservers: (zone: string) => Effect.Effect<ReadonlyArray<string>, DnsLookupError>
  /** a host's IPv4 and IPv6 addresses (an IP address is its own) */
  readonly addresses: (host: string) => Effect.Effect<ReadonlyArray<string>, DnsLookupError>
  /** the TXT values at `name` as `server` (`ip` or `ip:port`) answers them; none when it has none */
  readonly txt: (name: string, server: string) => Effect.Effect<ReadonlyArray<string>, DnsLookupError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class DnsResolver extends Context.Tag("@acme/dns/DnsResolver")<DnsResolver, Service>() {}

/** "no such name" and "no such record" are answers, not failures */
const emptyCodes = new Set<string>([Dns.NODATA, Dns.NOTFOUND])

const lookup = <A>(
  resolver: () => Dns.Resolver,
  what: { readonly name: string; readonly type: string; readonly server?: string | undefined },
  run: (resolver: Dns.Resolver, callback: (error: NodeJS.ErrnoException | null, value: A) => void) => void,
  empty: A
): Effect.Effect<A, DnsLookupError> =>
  Effect.async<A, DnsLookupError>((resume) => {
    const instance = resolver()
    run(instance, (error, value) => {
      if (error === null) resume(Effect.succeed(value))
      else if (error.code !== undefined && emptyCodes.has(error.code)) resume(Effect.succeed(empty))
      else {
        resume(
          Effect.fail(
            new DnsLookupError({ ...what, description: error.code === undefined ? error.message : error.code })
          )
        )
      }
    })
    return Effect.sync(() => instance.cancel())
  })

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** recursive resolvers (`ip` or `ip:port`) for CNAME, SOA, NS and address lookups; default the system's */
  readonly servers?: ReadonlyArray<string> | undefined
  /** per query and try; default 2 seconds (node:dns tries 2 times) */
  readonly timeout?: Duration.DurationInput | undefined
}

/**
 * A resolver over node:dns.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Service => {
  const timeout = Duration.toMillis(Duration.decode(options.timeout ?? "2 seconds"))
  const create = (servers: ReadonlyArray<string> | undefined) => () => {
    const resolver = new Dns.Resolver({ timeout, tries: 2 })
    if (servers !== undefined && servers.length > 0) resolver.setServers(servers)
    return resolver
  }
  const recursive = create(options.servers)
  return {
    cname: (name) =>
      lookup(
        recursive,
        { name, type: "CNAME" },
        (r, cb) => r.resolveCname(normalise(name), cb),
        [] as Array<string>
      ).pipe(Effect.map((targets) => Option.map(Option.fromNullable(targets[0]), normalise))),
    isZoneApex: (name) =>
      lookup(
        recursive,
        { name, type: "SOA" },
        (r, cb) => r.resolveSoa(normalise(name), (error, soa) => cb(error, soa !== undefined)),
        false
      ),
    nameservers: (zone) =>
      lookup(recursive, { name: zone, type: "NS" }, (r, cb) => r.resolveNs(normalise(zone), cb), [] as Array<string>)
        .pipe(Effect.map((names) => names.map(normalise))),
    addresses: (host) =>
      Net.isIP(host) !== 0
        ? Effect.succeed([host])
        : Effect.zipWith(
          lookup(recursive, { name: host, type: "A" }, (r, cb) => r.resolve4(normalise(host), cb), [] as Array<string>),
          lookup(recursive, { name: host, type: "AAAA" }, (r, cb) => r.resolve6(normalise(host), cb), [] as Array<string>),
          (v4, v6) => [...v4, ...v6],
          { concurrent: true }
        ),
    txt: (name, server) => {
      const parsed = parseHostPort(server, 53)
      if (parsed === undefined || Net.isIP(parsed.host) === 0) {
        return Effect.fail(
          new DnsLookupError({ name, type: "TXT", server, description: "not an IP address (ip, ip:port or [ipv6]:port)" })
        )
      }
      const setting = Net.isIPv6(parsed.host) ? `[${parsed.host}]:${parsed.port}` : `${parsed.host}:${parsed.port}`
      return lookup(
        create([setting]),
        { name, type: "TXT", server },
        (r, cb) => r.resolveTxt(normalise(name), cb),
        [] as Array<Array<string>>
      ).pipe(Effect.map((records) => records.map((chunks) => chunks.join(""))))
    }
  }
}

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<DnsResolver> => Layer.succeed(DnsResolver, make(options))
