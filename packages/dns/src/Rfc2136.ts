/**
 * RFC 2136 dynamic DNS UPDATE, signed with TSIG (RFC 8945: hmac-sha256 or hmac-sha512), against a
 * primary server such as BIND, Knot or PowerDNS. `present` adds one TXT record, `cleanup` deletes
 * exactly that record (class NONE), so other values at the same name (a wildcard and its base name
 * share one) stay. Messages go over UDP, falling back to TCP when an answer is truncated or UDP
 * gets none. Answers must carry a valid TSIG signature of the same key.
 *
 * Messages are encoded and decoded by `dns-packet`; TSIG is computed with node:crypto's HMAC over
 * that wire encoding, since no maintained npm library implements TSIG (see `internal/dnsMessage.ts`).
 *
 * ```yaml
 * challenge:
 *   type: dns-01
 *   provider: rfc2136
 *   server: ns1.example.org:53
 *   zone: example.org            # optional: found with an SOA query otherwise
 *   tsig: { name: acme-key., algorithm: hmac-sha256, secret: { env: ACME_TSIG_SECRET } }
 * ```
 *
 * @since 0.1.0
 */
import * as DnsProvider from "@acme/sdk/DnsProvider"
import * as Plugin from "@acme/sdk/Plugin"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Encoding from "effect/Encoding"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Message from "./internal/dnsMessage.js"
import { isInZone, normalise, parseHostPort } from "./internal/names.js"
import * as Secret from "./Secret.js"

/**
 * @since 0.1.0
 * @category models
 */
export type TsigAlgorithm = "hmac-sha256" | "hmac-sha512"

const ServerSchema = Schema.String.pipe(
  Schema.filter((s) =>
    parseHostPort(s, 53) !== undefined || `"${s}" is not a DNS server; write host, host:port or [IPv6]:port`
  )
)

/**
 * The plugin's options, as the configuration writes them.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Options = Schema.Struct({
  /** the primary server that accepts updates: `host`, `host:port` or `[IPv6]:port` (port 53 by default) */
  server: ServerSchema,
  /** the zone to update; default: the zone whose SOA the server answers for the record's name */
  zone: Schema.optional(Schema.String),
  tsig: Schema.Struct({
    /** the key's name as named.conf has it (`key "acme-key." { ... }`) */
    name: Schema.String.pipe(Schema.minLength(1)),
    algorithm: Schema.optionalWith(Schema.Literal("hmac-sha256", "hmac-sha512"), { default: () => "hmac-sha256" }),
    /** the key's secret, base64 as in named.conf */
    secret: Secret.SecretSource
  }),
  /** TTL of the records added, seconds (default 60) */
  ttl: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 86_400)), { default: () => 60 }),
  /** `udp` (with a TCP fallback; the default) or `tcp` */
  transport: Schema.optionalWith(Schema.Literal("udp", "tcp"), { default: () => "udp" })
})

/**
 * @since 0.1.0
 * @category models
 */
export interface Config {
  readonly server: string
  readonly zone?: string | undefined
  readonly tsig: {
    readonly name: string
    readonly algorithm: TsigAlgorithm
    /** base64 */
    readonly secret: Redacted.Redacted<string>
  }
  readonly ttl?: number | undefined
  readonly transport?: "udp" | "tcp" | undefined
  /** per exchange; default 10 seconds */
  readonly timeout?: Duration.DurationInput | undefined
}

const providerName = "rfc2136"

const fail = (reason: DnsProvider.DnsProviderError["reason"], description: string) =>
  new DnsProvider.DnsProviderError({ provider: providerName, reason, description })

/**
 * The provider. Fails with `Invalid` when the server or the secret cannot be used.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (config: Config): Effect.Effect<DnsProvider.Service, DnsProvider.DnsProviderError> =>
  Effect.gen(function*() {
    const server = parseHostPort(config.server, 53)
    if (server === undefined) {
      return yield* fail("Invalid", `"${config.server}" is not a DNS server; write host, host:port or [IPv6]:port`)
    }
    const secret = Encoding.decodeBase64(Redacted.value(config.tsig.secret).trim())
    if (Either.isLeft(secret) || secret.right.length === 0) {
      return yield* fail("Invalid", `the secret of TSIG key ${config.tsig.name} is not base64; copy it from named.conf`)
    }
    const key: Message.TsigKey = { name: config.tsig.name, algorithm: config.tsig.algorithm, secret: secret.right }
    const keyName = normalise(config.tsig.name)
    const where = `${server.host}:${server.port}`
    const options = { transport: config.transport ?? "udp", timeout: Duration.decode(config.timeout ?? "10 seconds") }
    const ttl = config.ttl ?? 60

    const newId = Random.nextIntBetween(0, 0x10000)
    const send = (message: Buffer) =>
      Message.exchange(server, message, options).pipe(Effect.mapError((description) => fail("Transport", description)))

    /** the zone holding `name`: the owner of the SOA the server answers for it (answer or authority) */
    const findZone = (name: string) =>
      Effect.gen(function*() {
        const answer = Message.decodeAnswer(yield* send(Message.queryMessage(yield* newId, name, "SOA")))
        const soa = [...answer.answers, ...answer.authorities].find((record) => record.type === "SOA")
        if (soa === undefined) {
          return yield* fail(
            answer.rcode === "REFUSED" ? "Refused" : "NotFound",
            `${where} answered ${answer.rcode} without an SOA for ${name}: it is not authoritative for it; ` +
              "set zone (and server) to the zone's primary"
          )
        }
        return normalise(soa.name)
      })

    const update = (action: "add" | "delete", record: DnsProvider.TxtRecord) =>
      Effect.gen(function*() {
        const name = normalise(record.name)
        const zone = config.zone === undefined ? yield* findZone(name) : normalise(config.zone)
        if (!isInZone(name, zone)) {
          return yield* fail("Invalid", `${name} is not in zone ${zone}; set zone to the zone that holds it`)
        }
        const message = Message.updateMessage(yield* newId, zone, [{ action, name, value: record.value, ttl }])
        const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
        const signed = Message.sign(message, key, now)
        const answer = Message.decodeAnswer(yield* send(signed.wire), { key, requestMac: signed.mac })
        const what = `${where} answered ${answer.rcode}${answer.tsigError === undefined ? "" : ` (${answer.tsigError})`}`
        if (answer.tsigError === "BADSIG" || answer.tsigError === "BADKEY") {
          return yield* fail(
            "Unauthorized",
            `the TSIG key ${keyName} may not update zone ${zone}: ${what}; ` +
              "check that the key's name, algorithm and secret match named.conf"
          )
        }
        if (answer.tsigError === "BADTIME") {
          return yield* fail("Unauthorized", `${what}: this machine's clock and the server's differ by more than 5 minutes`)
        }
        switch (answer.rcode) {
          case "NOERROR":
            break
          case "REFUSED":
          case "NOTAUTH":
            return yield* fail(
              "Refused",
              `the TSIG key ${keyName} may not update zone ${zone}: ${what}; ` +
                "allow it with update-policy/allow-update in named.conf"
            )
          case "NOTZONE":
            return yield* fail("Invalid", `${what}: ${name} is not in zone ${zone}; set zone to the zone that holds it`)
          default:
            return yield* fail("Refused", `updating ${name} in zone ${zone}: ${what}`)
        }
        if (answer.tsigValid !== true) {
          return yield* fail(
            "Invalid",
            `${where} answered the update of ${name} ${
              answer.tsigValid === false ? "with a TSIG signature that does not verify" : "without a TSIG signature"
            }; check the server and the key ${keyName}`
          )
        }
      }).pipe(Effect.withSpan(`Rfc2136.${action}`, { attributes: { name: record.name, server: where } }))

    return {
      name: providerName,
      present: (record) => update("add", record),
      cleanup: (record) => update("delete", record)
    }
  })

/**
 * `provider: rfc2136`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  kind: "dns",
  name: providerName,
  description: "RFC 2136 dynamic DNS update with TSIG (BIND, Knot, PowerDNS)",
  options: Options,
  make: (options, context) =>
    Effect.gen(function*() {
      const secret = yield* Secret.resolve(options.tsig.secret, context, providerName, "tsig.secret")
      return yield* make({ ...options, tsig: { ...options.tsig, secret } }).pipe(
        Effect.mapError((error) => new Plugin.PluginError({ plugin: providerName, description: error.description }))
      )
    })
})
