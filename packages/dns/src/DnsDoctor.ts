/**
 * What `Doctor` (`@acme/sdk`) asks of DNS, on Node:
 *
 * - {@link layerLookups}: `Doctor.Lookups` over node:dns: A, AAAA and CAA through the system's
 *   recursive resolvers or the ones given (a test server on another port included);
 * - {@link layerDns01Probe}: `Doctor.Dns01Probe` over the DNS providers: for one name it follows
 *   the `_acme-challenge` CNAME, has the certificate's provider add a test TXT record and remove it
 *   again (so the credentials are tried for both), and asks each of the zone's authoritative servers
 *   (or `propagation.nameservers`) for it, to see that they answer.
 *
 * @since 0.1.0
 */
import * as ChallengeResponse from "@acme/sdk/ChallengeResponse"
import * as Doctor from "@acme/sdk/Doctor"
import type * as RenewalConfig from "@acme/sdk/RenewalConfig"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as Layer from "effect/Layer"
import * as Dns from "node:dns"
import * as Net from "node:net"
import * as Dns01 from "./Dns01.js"
import * as DnsResolver from "./DnsResolver.js"
import { normalise } from "./internal/names.js"

/** "no such name" and "no such record" are answers, not failures */
const emptyCodes = new Set<string>([Dns.NODATA, Dns.NOTFOUND])

/**
 * `Doctor.Lookups` over node:dns.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeLookups = (options: DnsResolver.Options = {}): Doctor.LookupsService => {
  const timeout = Duration.toMillis(Duration.decode(options.timeout ?? "2 seconds"))
  const lookup = <A>(
    name: string,
    type: string,
    run: (resolver: Dns.Resolver, callback: (error: NodeJS.ErrnoException | null, value: A) => void) => void,
    empty: A
  ): Effect.Effect<A, Doctor.LookupError> =>
    Effect.async<A, Doctor.LookupError>((resume) => {
      const resolver = new Dns.Resolver({ timeout, tries: 2 })
      if (options.servers !== undefined && options.servers.length > 0) resolver.setServers(options.servers)
      run(resolver, (error, value) => {
        if (error === null) resume(Effect.succeed(value))
        else if (error.code !== undefined && emptyCodes.has(error.code)) resume(Effect.succeed(empty))
        else resume(Effect.fail(new Doctor.LookupError({ name, type, description: error.code ?? error.message })))
      })
      return Effect.sync(() => resolver.cancel())
    })
  return {
    addresses: (name) =>
      Net.isIP(name) !== 0 ? Effect.succeed([name]) : Effect.zipWith(
        lookup(name, "A", (r, cb) => r.resolve4(normalise(name), cb), [] as Array<string>),
        lookup(name, "AAAA", (r, cb) => r.resolve6(normalise(name), cb), [] as Array<string>),
        (v4, v6) => [...v4, ...v6],
        { concurrent: true }
      ),
    caa: (name) =>
      lookup(name, "CAA", (r, cb) => r.resolveCaa(normalise(name), cb), [] as Array<Dns.CaaRecord>).pipe(
        Effect.map((records) =>
          records.flatMap((record): ReadonlyArray<Doctor.CaaRecord> => {
            const critical = record.critical !== 0
            if (record.issue !== undefined) return [{ critical, tag: "issue", value: record.issue }]
            if (record.issuewild !== undefined) return [{ critical, tag: "issuewild", value: record.issuewild }]
            if (record.iodef !== undefined) return [{ critical, tag: "iodef", value: record.iodef }]
            if (record.contactemail !== undefined) return [{ critical, tag: "contactemail", value: record.contactemail }]
            if (record.contactphone !== undefined) return [{ critical, tag: "contactphone", value: record.contactphone }]
            // node:dns names the property after the record's tag for other tags
            const other = Object.entries(record).find(([key]) => key !== "critical")
            return other === undefined ? [] : [{ critical, tag: other[0].toLowerCase(), value: String(other[1]) }]
          })
        )
      )
  }
}

/**
 * @since 0.1.0
 * @category layers
 */
export const layerLookups = (options?: DnsResolver.Options): Layer.Layer<Doctor.Lookups> =>
  Layer.succeed(Doctor.Lookups, makeLookups(options))

/**
 * The DNS provider (and propagation settings) of a dns-01 certificate; `undefined` when it has none.
 *
 * @since 0.1.0
 * @category models
 */
export type Resolve = (certificate: RenewalConfig.CertificateSpec) => Effect.Effect<Dns01.Setup | undefined>

/**
 * `Doctor.Dns01Probe` over the providers `resolve` finds.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeDns01Probe = (
  resolve: Resolve
): Effect.Effect<Doctor.Dns01ProbeService, never, DnsResolver.DnsResolver> =>
  Effect.gen(function*() {
    const context = yield* Effect.context<DnsResolver.DnsResolver>()
    const check = (input: Doctor.Dns01ProbeInput) =>
      Effect.gen(function*() {
        const at = { check: "dns-01" as const, certificate: input.certificate.name, subject: input.name }
        const setup = yield* resolve(input.certificate)
        if (setup === undefined) {
          return [Doctor.fail(at, "no DNS provider is configured", "set challenge.provider")]
        }
        const { provider } = setup
        const base = ChallengeResponse.dns01RecordName({ type: "dns", value: normalise(input.name) })
        const target = yield* Effect.either(Dns01.followCname(base))
        if (target._tag === "Left") return [Doctor.fail(at, target.left, `fix the CNAME at ${base}`)]
        const record = {
          name: target.right.name,
          value: `acme-doctor-${Encoding.encodeBase64Url(globalThis.crypto.getRandomValues(new Uint8Array(12)))}`
        }
        const via = target.right.chain.length > 1 ? ` (${base} is a CNAME to ${record.name})` : ""
        const added = yield* Effect.either(provider.present(record))
        if (added._tag === "Left") {
          return [Doctor.fail(
            at,
            `the DNS provider ${provider.name} could not add a test TXT record at ${record.name}${via}: ${
              Doctor.oneLine(added.left.description)
            }`,
            `check the provider's credentials and that they may change TXT records of ${record.name}`
          )]
        }
        const findings: Array<Doctor.Finding> = []
        const check = setup.propagation?.check ?? provider.visibleAtOnce !== true
        if (!check) {
          findings.push(Doctor.skip(at, "propagation.check is false: the zone's name servers are not asked"))
        } else {
          findings.push(yield* nameServers(at, record.name, setup.propagation?.nameservers))
        }
        const removed = yield* Effect.either(provider.cleanup(record))
        findings.unshift(
          removed._tag === "Right"
            ? Doctor.ok(at, `the DNS provider ${provider.name} added and removed a test TXT record at ${record.name}${via}`)
            : Doctor.fail(
              at,
              `the DNS provider ${provider.name} added a test TXT record at ${record.name} but could not remove it: ${
                Doctor.oneLine(removed.left.description)
              }`,
              `remove the TXT record "${record.value}" at ${record.name} by hand; check that the credentials may delete records`
            )
        )
        return findings
      }).pipe(Effect.provide(context), Effect.withSpan("DnsDoctor.dns01"))
    return { check }
  })

/** does every authoritative server of the zone (or every configured one) answer for `name`? */
const nameServers = (
  at: Doctor.Subject,
  name: string,
  nameservers: ReadonlyArray<string> | undefined
): Effect.Effect<Doctor.Finding, never, DnsResolver.DnsResolver> =>
  Effect.gen(function*() {
    const resolver = yield* DnsResolver.DnsResolver
    const servers = yield* Effect.either(Dns01.authoritativeServers(name, nameservers))
    if (servers._tag === "Left") return Doctor.fail(at, servers.left, "check the zone's NS records, or set propagation.nameservers")
    const byLabel = new Map<string, Array<string>>()
    for (const server of servers.right) byLabel.set(server.label, [...(byLabel.get(server.label) ?? []), server.address])
    const silent = yield* Effect.filter([...byLabel.entries()], ([, addresses]) =>
      Effect.forEach(addresses, (address) => Effect.either(resolver.txt(name, address)), { concurrency: "unbounded" })
        .pipe(Effect.map((answers) => answers.every((answer) => answer._tag === "Left"))), { concurrency: "unbounded" })
    const labels = [...byLabel.keys()]
    return silent.length === 0
      ? Doctor.ok(at, `the name servers answer (${labels.join(", ")})`)
      : Doctor.fail(
        at,
        `the name servers ${silent.map(([label]) => label).join(", ")} do not answer for ${name}`,
        "check that they serve the zone and are reachable from here (or set propagation.nameservers)"
      )
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layerDns01Probe = (resolve: Resolve): Layer.Layer<Doctor.Dns01Probe, never, DnsResolver.DnsResolver> =>
  Layer.effect(Doctor.Dns01Probe, makeDns01Probe(resolve))
