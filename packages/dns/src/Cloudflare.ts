/**
 * Cloudflare through its API v4 with an API token (`Authorization: Bearer`): the zone is found
 * with `GET /zones?name=` (the record's name, then each parent, until a zone answers) unless
 * `zoneId` is given; `present` is `POST /zones/:id/dns_records` (a TXT record; an identical one
 * already there counts as done), `cleanup` lists the TXT records of the name
 * (`GET /zones/:id/dns_records?type=TXT&name=`) and deletes the ones with exactly this value.
 * Every answer is read through Cloudflare's envelope (`success`, `errors`, `result`).
 *
 * The token needs the permission Zone → DNS → Edit for the zone (and Zone → Zone → Read to find it
 * by name).
 *
 * ```yaml
 * challenge:
 *   type: dns-01
 *   provider: cloudflare
 *   apiToken: { env: CLOUDFLARE_API_TOKEN }
 *   zone: example.org              # optional; or zoneId
 * ```
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as DnsProvider from "@acme/sdk/DnsProvider"
import * as Plugin from "@acme/sdk/Plugin"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { excerpt, providerError, send } from "./internal/http.js"
import { normalise, suffixes } from "./internal/names.js"
import * as Secret from "./Secret.js"

const providerName = "cloudflare"
const fail = providerError(providerName)

const Url = Schema.String.pipe(Schema.filter((u) => URL.canParse(u) || `"${u}" is not a URL`))

/**
 * @since 0.1.0
 * @category schemas
 */
export const Options = Schema.Struct({
  /** an API token with Zone → DNS → Edit */
  apiToken: Secret.SecretSource,
  /** the zone's name; default: found from the record's name */
  zone: Schema.optional(Schema.String),
  /** the zone's id (skips the lookup) */
  zoneId: Schema.optional(Schema.String),
  /** default `https://api.cloudflare.com/client/v4` */
  baseUrl: Schema.optional(Url),
  /** seconds; 1 is "automatic", else 60 to 86400 (default 120) */
  ttl: Schema.optional(Schema.Int.pipe(Schema.between(1, 86_400)))
})

/**
 * @since 0.1.0
 * @category models
 */
export interface Config {
  readonly apiToken: Redacted.Redacted<string>
  readonly zone?: string | undefined
  readonly zoneId?: string | undefined
  readonly baseUrl?: string | undefined
  readonly ttl?: number | undefined
}

/**
 * The default API base URL.
 *
 * @since 0.1.0
 * @category models
 */
export const defaultBaseUrl = "https://api.cloudflare.com/client/v4"

interface EnvelopeOf<A> {
  readonly success: boolean
  readonly errors: ReadonlyArray<{ readonly code: number; readonly message: string }>
  readonly result: A | null
}

const Envelope = <A, I>(result: Schema.Schema<A, I>) =>
  Schema.parseJson(Schema.Struct({
    success: Schema.Boolean,
    errors: Schema.Array(Schema.Struct({ code: Schema.Number, message: Schema.String })),
    result: Schema.NullOr(result)
  }))

const ZoneList = Envelope(Schema.Array(Schema.Struct({ id: Schema.String, name: Schema.String })))
const RecordList = Envelope(Schema.Array(Schema.Struct({ id: Schema.String, name: Schema.String, content: Schema.String })))
const Created = Envelope(Schema.Struct({ id: Schema.String }))
const AnyResult = Envelope(Schema.Unknown)

/** "identical record already exists" */
const RECORD_EXISTS = 81058

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (config: Config): Effect.Effect<DnsProvider.Service, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const base = (config.baseUrl ?? defaultBaseUrl).replace(/\/+$/, "")
    const ttl = config.ttl ?? 120

    const call = <A>(request: HttpClientRequest.HttpClientRequest, schema: Schema.Schema<EnvelopeOf<A>, string>, what: string) =>
      Effect.gen(function*() {
        const answer = yield* send(
          client,
          providerName,
          request.pipe(HttpClientRequest.bearerToken(Redacted.value(config.apiToken)), HttpClientRequest.acceptJson)
        )
        const decoded = Schema.decodeEither(schema)(answer.body)
        if (Either.isLeft(decoded)) {
          return yield* fail(
            "Invalid",
            `${what}: HTTP ${answer.status} with a body that is not Cloudflare's API envelope: ${excerpt(answer.body)}`
          )
        }
        const envelope = decoded.right
        const errors = envelope.errors.map((e) => `${e.message} [${e.code}]`).join("; ")
        if (answer.status === 401 || answer.status === 403) {
          return yield* fail(
            "Unauthorized",
            `Cloudflare rejected the API token (${what}: HTTP ${answer.status}: ${errors}); ` +
              "give the token Zone:DNS:Edit (and Zone:Read) for the zone"
          )
        }
        return { status: answer.status, envelope, errors }
      })

    const findZone = (name: string) =>
      Effect.gen(function*() {
        if (config.zoneId !== undefined) return { id: config.zoneId, name: config.zone ?? "(zone id)" }
        const candidates = config.zone !== undefined ? [normalise(config.zone)] : suffixes(name)
        for (const candidate of candidates) {
          const answer = yield* call(
            HttpClientRequest.get(`${base}/zones`, { urlParams: { name: candidate } }),
            ZoneList,
            `GET /zones?name=${candidate}`
          )
          if (!answer.envelope.success) {
            return yield* fail("Refused", `GET /zones?name=${candidate}: HTTP ${answer.status}: ${answer.errors}`)
          }
          const zone = answer.envelope.result?.find((z) => normalise(z.name) === candidate)
          if (zone !== undefined) return zone
        }
        return yield* fail(
          "NotFound",
          `no Cloudflare zone holds ${name} (asked for ${candidates.join(", ")}); ` +
            "check that the token may read the zone, or set zone/zoneId"
        )
      })

    const present = (record: DnsProvider.TxtRecord) =>
      Effect.gen(function*() {
        const zone = yield* findZone(record.name)
        const what = `POST /zones/${zone.id}/dns_records`
        const answer = yield* call(
          HttpClientRequest.post(`${base}/zones/${zone.id}/dns_records`).pipe(
            HttpClientRequest.bodyUnsafeJson({ type: "TXT", name: normalise(record.name), content: record.value, ttl })
          ),
          Created,
          what
        )
        if (answer.envelope.success || answer.envelope.errors.some((e) => e.code === RECORD_EXISTS)) return
        return yield* fail("Refused", `${what} (TXT ${record.name}): HTTP ${answer.status}: ${answer.errors}`)
      }).pipe(Effect.withSpan("Cloudflare.present", { attributes: { name: record.name } }))

    const cleanup = (record: DnsProvider.TxtRecord) =>
      Effect.gen(function*() {
        const zone = yield* findZone(record.name)
        const name = normalise(record.name)
        const list = yield* call(
          HttpClientRequest.get(`${base}/zones/${zone.id}/dns_records`, {
            urlParams: { type: "TXT", name, per_page: "100" }
          }),
          RecordList,
          `GET /zones/${zone.id}/dns_records`
        )
        if (!list.envelope.success) {
          return yield* fail("Refused", `GET /zones/${zone.id}/dns_records?name=${name}: HTTP ${list.status}: ${list.errors}`)
        }
        // Cloudflare may show TXT content in quotes
        const matching = (list.envelope.result ?? []).filter((r) =>
          normalise(r.name) === name && (r.content === record.value || r.content === `"${record.value}"`)
        )
        yield* Effect.forEach(matching, (r) => {
          const what = `DELETE /zones/${zone.id}/dns_records/${r.id}`
          return call(HttpClientRequest.del(`${base}/zones/${zone.id}/dns_records/${r.id}`), AnyResult, what).pipe(
            Effect.flatMap((answer) =>
              answer.envelope.success || answer.status === 404
                ? Effect.void
                : fail("Refused", `${what}: HTTP ${answer.status}: ${answer.errors}`)
            )
          )
        }, { discard: true })
      }).pipe(Effect.withSpan("Cloudflare.cleanup", { attributes: { name: record.name } }))

    return { name: providerName, present, cleanup }
  })

/**
 * `provider: cloudflare`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  kind: "dns",
  name: providerName,
  description: "Cloudflare DNS (API v4, API token)",
  options: Options,
  make: (options, context) =>
    Effect.gen(function*() {
      const apiToken = yield* Secret.resolve(options.apiToken, context, providerName, "apiToken")
      return yield* make({ ...options, apiToken })
    })
})
