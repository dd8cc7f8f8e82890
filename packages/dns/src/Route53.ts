/**
 * Amazon Route 53 through its REST API (version 2013-04-01, XML), each request signed with AWS
 * Signature Version 4 by the `aws4` library.
 *
 * A TXT name holds one record set in Route 53, and a wildcard and its base name share one: so
 * `present` reads the set (`ListResourceRecordSets`) and `UPSERT`s it with the value added, and
 * `cleanup` `UPSERT`s it without the value, or `DELETE`s it (exactly as it is) when the value was
 * the last one. The hosted zone is `hostedZoneId`, or found with `ListHostedZonesByName` (the
 * record's name, then each parent). The responder's propagation check waits for the change to
 * reach Route 53's name servers; `GetChange` is not polled.
 *
 * The credentials need `route53:ListHostedZonesByName` (unless `hostedZoneId` is given),
 * `route53:ListResourceRecordSets` and `route53:ChangeResourceRecordSets` on the zone.
 *
 * ```yaml
 * challenge:
 *   type: dns-01
 *   provider: route53
 *   accessKeyId: { env: AWS_ACCESS_KEY_ID }          # the default
 *   secretAccessKey: { env: AWS_SECRET_ACCESS_KEY }  # the default
 *   hostedZoneId: Z1D633PJN98FT9                     # optional
 * ```
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as DnsProvider from "@acme/sdk/DnsProvider"
import * as Plugin from "@acme/sdk/Plugin"
import aws4 from "aws4"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { XMLBuilder, XMLParser } from "fast-xml-parser"
import { excerpt, providerError, send } from "./internal/http.js"
import { normalise, suffixes } from "./internal/names.js"
import * as Secret from "./Secret.js"

const providerName = "route53"
const fail = providerError(providerName)

const Url = Schema.String.pipe(Schema.filter((u) => URL.canParse(u) || `"${u}" is not a URL`))

/**
 * @since 0.1.0
 * @category schemas
 */
export const Options = Schema.Struct({
  /** default `{ env: AWS_ACCESS_KEY_ID }` */
  accessKeyId: Schema.optionalWith(Secret.SecretSource, { default: () => ({ env: "AWS_ACCESS_KEY_ID" }) }),
  /** default `{ env: AWS_SECRET_ACCESS_KEY }` */
  secretAccessKey: Schema.optionalWith(Secret.SecretSource, { default: () => ({ env: "AWS_SECRET_ACCESS_KEY" }) }),
  /** for temporary credentials */
  sessionToken: Schema.optional(Secret.SecretSource),
  /** `Z…` or `/hostedzone/Z…`; default: found by name */
  hostedZoneId: Schema.optional(Schema.String),
  /** default `https://route53.amazonaws.com` */
  endpoint: Schema.optional(Url),
  /** the signing region; Route 53 is global and signs with `us-east-1` (the default) */
  region: Schema.optional(Schema.String),
  /** seconds, for a new record set (default 60) */
  ttl: Schema.optional(Schema.Int.pipe(Schema.between(1, 86_400)))
})

/**
 * @since 0.1.0
 * @category models
 */
export interface Config {
  readonly accessKeyId: Redacted.Redacted<string>
  readonly secretAccessKey: Redacted.Redacted<string>
  readonly sessionToken?: Redacted.Redacted<string> | undefined
  readonly hostedZoneId?: string | undefined
  readonly endpoint?: string | undefined
  readonly region?: string | undefined
  readonly ttl?: number | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export const defaultEndpoint = "https://route53.amazonaws.com"

const namespace = "https://route53.amazonaws.com/doc/2013-04-01/"

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  isArray: (tag) => ["HostedZone", "ResourceRecordSet", "ResourceRecord", "Error"].includes(tag)
})
const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: "@_" })

const XmlText = Schema.String

const HostedZones = Schema.Struct({
  ListHostedZonesByNameResponse: Schema.Struct({
    HostedZones: Schema.optional(Schema.Union(
      Schema.Struct({ HostedZone: Schema.Array(Schema.Struct({ Id: XmlText, Name: XmlText })) }),
      Schema.Literal("")
    ))
  })
})

const RecordSets = Schema.Struct({
  ListResourceRecordSetsResponse: Schema.Struct({
    ResourceRecordSets: Schema.optional(Schema.Union(
      Schema.Struct({
        ResourceRecordSet: Schema.Array(Schema.Struct({
          Name: XmlText,
          Type: XmlText,
          TTL: Schema.optional(Schema.NumberFromString),
          ResourceRecords: Schema.optional(Schema.Struct({
            ResourceRecord: Schema.Array(Schema.Struct({ Value: XmlText }))
          }))
        }))
      }),
      Schema.Literal("")
    ))
  })
})

const ErrorResponse = Schema.Struct({
  ErrorResponse: Schema.Struct({
    Error: Schema.Array(Schema.Struct({ Code: XmlText, Message: Schema.optional(XmlText) }))
  })
})

const parseXml = <A, I>(schema: Schema.Schema<A, I>, body: string): Option.Option<A> => {
  // fast-xml-parser returns `any`: widened to unknown, then decoded
  const parsed = Either.try(() => parser.parse(body) as unknown)
  return Either.isLeft(parsed) ? Option.none() : Option.getRight(Schema.decodeUnknownEither(schema)(parsed.right))
}

/** TXT values are quoted in Route 53's record sets */
const quote = (value: string) => `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`
const unquote = (value: string) => value.startsWith("\"") && value.endsWith("\"") ? value.slice(1, -1).replace(/\\(.)/g, "$1") : value

interface RecordSet {
  readonly ttl: number
  readonly values: ReadonlyArray<string>
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (config: Config): Effect.Effect<DnsProvider.Service, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const endpoint = new URL(config.endpoint ?? defaultEndpoint)
    const region = config.region ?? "us-east-1"
    const ttl = config.ttl ?? 60

    /** one signed request; `path` includes the query string exactly as sent */
    const request = (method: "GET" | "POST", path: string, body?: string) =>
      Effect.gen(function*() {
        const now = yield* DateTime.now
        const amzDate = DateTime.formatIso(now).replace(/[-:]/g, "").replace(/\.\d{3}/, "")
        const headers: Record<string, string> = { "X-Amz-Date": amzDate }
        if (body !== undefined) headers["Content-Type"] = "text/xml"
        const signed = aws4.sign(
          { host: endpoint.host, method, path, service: "route53", region, headers, ...(body === undefined ? {} : { body }) },
          {
            accessKeyId: Redacted.value(config.accessKeyId),
            secretAccessKey: Redacted.value(config.secretAccessKey),
            ...(config.sessionToken === undefined ? {} : { sessionToken: Redacted.value(config.sessionToken) })
          }
        )
        const sent: Record<string, string> = {}
        for (const [key, value] of Object.entries(signed.headers ?? {})) {
          const lower = key.toLowerCase()
          if (typeof value === "string" && lower !== "host" && lower !== "content-length") sent[key] = value
        }
        const url = `${endpoint.origin}${path}`
        const base = method === "GET" ? HttpClientRequest.get(url) : HttpClientRequest.post(url)
        const answer = yield* send(
          client,
          providerName,
          base.pipe(
            HttpClientRequest.setHeaders(sent),
            body === undefined ? (r) => r : HttpClientRequest.bodyText(body, "text/xml")
          )
        )
        const what = `${method} ${path.replace(/\?.*$/, "")}`
        if (answer.status >= 200 && answer.status < 300) return answer.body
        const error = Option.flatMap(parseXml(ErrorResponse, answer.body), (e) => Option.fromNullable(e.ErrorResponse.Error[0]))
        const detail = Option.match(error, {
          onNone: () => excerpt(answer.body),
          onSome: (e) => `${e.Code}${e.Message === undefined ? "" : `: ${e.Message}`}`
        })
        const code = Option.match(error, { onNone: () => "", onSome: (e) => e.Code })
        if (answer.status === 401 || answer.status === 403) {
          return yield* fail(
            "Unauthorized",
            `Route 53 rejected the request (${what}: HTTP ${answer.status}: ${detail}); ` +
              "check the access key and its IAM permissions for route53:ChangeResourceRecordSets on the zone"
          )
        }
        if (answer.status === 404 || code === "NoSuchHostedZone") {
          return yield* fail("NotFound", `${what}: HTTP ${answer.status}: ${detail}; check hostedZoneId`)
        }
        return yield* fail("Refused", `${what}: HTTP ${answer.status}: ${detail}`)
      })

    const findZone = (name: string) =>
      Effect.gen(function*() {
        if (config.hostedZoneId !== undefined) return config.hostedZoneId.replace(/^\/?hostedzone\//, "")
        const candidates = suffixes(name)
        for (const candidate of candidates) {
          const body = yield* request("GET", `/2013-04-01/hostedzonesbyname?dnsname=${candidate}.&maxitems=1`)
          const zones = yield* Option.match(parseXml(HostedZones, body), {
            onNone: () => fail("Invalid", `ListHostedZonesByName answered what is not its XML: ${excerpt(body)}`),
            onSome: (r) =>
              Effect.succeed(
                typeof r.ListHostedZonesByNameResponse.HostedZones === "object"
                  ? r.ListHostedZonesByNameResponse.HostedZones.HostedZone
                  : []
              )
          })
          const zone = zones.find((z) => normalise(z.Name) === candidate)
          if (zone !== undefined) return zone.Id.replace(/^\/?hostedzone\//, "")
        }
        return yield* fail(
          "NotFound",
          `no Route 53 hosted zone holds ${name} (asked for ${candidates.join(", ")}); ` +
            "check the credentials' account, or set hostedZoneId"
        )
      })

    const readSet = (zoneId: string, name: string): Effect.Effect<Option.Option<RecordSet>, DnsProvider.DnsProviderError> =>
      Effect.gen(function*() {
        const body = yield* request("GET", `/2013-04-01/hostedzone/${zoneId}/rrset?name=${name}.&type=TXT&maxitems=1`)
        const sets = yield* Option.match(parseXml(RecordSets, body), {
          onNone: () => fail("Invalid", `ListResourceRecordSets answered what is not its XML: ${excerpt(body)}`),
          onSome: (r) =>
            Effect.succeed(
              typeof r.ListResourceRecordSetsResponse.ResourceRecordSets === "object"
                ? r.ListResourceRecordSetsResponse.ResourceRecordSets.ResourceRecordSet
                : []
            )
        })
        // the listing starts at the name: the first set may be another one
        const set = sets.find((s) => normalise(s.Name) === name && s.Type === "TXT")
        return Option.map(Option.fromNullable(set), (s) => ({
          ttl: s.TTL ?? ttl,
          values: (s.ResourceRecords?.ResourceRecord ?? []).map((r) => unquote(r.Value))
        }))
      })

    const change = (zoneId: string, action: "UPSERT" | "DELETE", name: string, set: RecordSet) =>
      request(
        "POST",
        `/2013-04-01/hostedzone/${zoneId}/rrset/`,
        builder.build({
          "?xml": { "@_version": "1.0", "@_encoding": "UTF-8" },
          ChangeResourceRecordSetsRequest: {
            "@_xmlns": namespace,
            ChangeBatch: {
              Comment: "acme dns-01",
              Changes: {
                Change: {
                  Action: action,
                  ResourceRecordSet: {
                    Name: `${name}.`,
                    Type: "TXT",
                    TTL: set.ttl,
                    ResourceRecords: { ResourceRecord: set.values.map((value) => ({ Value: quote(value) })) }
                  }
                }
              }
            }
          }
        }) as string
      )

    const present = (record: DnsProvider.TxtRecord) =>
      Effect.gen(function*() {
        const name = normalise(record.name)
        const zoneId = yield* findZone(name)
        const current = yield* readSet(zoneId, name)
        const values: ReadonlyArray<string> = Option.match(current, { onNone: () => [], onSome: (s) => s.values })
        if (values.includes(record.value)) return
        yield* change(zoneId, "UPSERT", name, {
          ttl: Option.match(current, { onNone: () => ttl, onSome: (s) => s.ttl }),
          values: [...values, record.value]
        })
      }).pipe(Effect.withSpan("Route53.present", { attributes: { name: record.name } }))

    const cleanup = (record: DnsProvider.TxtRecord) =>
      Effect.gen(function*() {
        const name = normalise(record.name)
        const zoneId = yield* findZone(name)
        const current = yield* readSet(zoneId, name)
        if (Option.isNone(current) || !current.value.values.includes(record.value)) return
        const rest = current.value.values.filter((v) => v !== record.value)
        yield* rest.length === 0
          ? change(zoneId, "DELETE", name, current.value)
          : change(zoneId, "UPSERT", name, { ttl: current.value.ttl, values: rest })
      }).pipe(Effect.withSpan("Route53.cleanup", { attributes: { name: record.name } }))

    return { name: providerName, present, cleanup }
  })

/**
 * `provider: route53`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  kind: "dns",
  name: providerName,
  description: "Amazon Route 53 (REST API, SigV4)",
  options: Options,
  make: (options, context) =>
    Effect.gen(function*() {
      const accessKeyId = yield* Secret.resolve(options.accessKeyId, context, providerName, "accessKeyId")
      const secretAccessKey = yield* Secret.resolve(options.secretAccessKey, context, providerName, "secretAccessKey")
      const sessionToken = options.sessionToken === undefined
        ? undefined
        : yield* Secret.resolve(options.sessionToken, context, providerName, "sessionToken")
      return yield* make({ ...options, accessKeyId, secretAccessKey, sessionToken })
    })
})
