/**
 * [acme-dns](https://github.com/joohoi/acme-dns): a small DNS server that only serves
 * `_acme-challenge` TXT records, updated with `POST /update` (`X-Api-User`, `X-Api-Key`, a JSON body
 * `{ "subdomain", "txt" }`). Your zone delegates to it once, by hand:
 *
 * ```
 * _acme-challenge.example.org.  CNAME  <subdomain>.auth.example.org.   ; fulldomain from /register
 * ```
 *
 * and the dns-01 responder follows that CNAME, so the record it waits for is at the acme-dns
 * server. acme-dns keeps the two most recent values of a subdomain (enough for a name and its
 * wildcard) and has no delete: `cleanup` does nothing.
 *
 * ```yaml
 * challenge:
 *   type: dns-01
 *   provider: acme-dns
 *   baseUrl: https://auth.example.org
 *   username: { env: ACMEDNS_USERNAME }
 *   password: { env: ACMEDNS_PASSWORD }
 *   subdomain: 8e5700ea-a4bf-41c7-8a77-e990661dcc6a
 *   fulldomain: 8e5700ea-a4bf-41c7-8a77-e990661dcc6a.auth.example.org   # optional: checks the CNAME
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
import { normalise } from "./internal/names.js"
import * as Secret from "./Secret.js"

const providerName = "acme-dns"
const fail = providerError(providerName)

const Url = Schema.String.pipe(Schema.filter((u) => URL.canParse(u) || `"${u}" is not a URL`))

/**
 * @since 0.1.0
 * @category schemas
 */
export const Options = Schema.Struct({
  /** the acme-dns API, e.g. `https://auth.example.org` */
  baseUrl: Url,
  /** from acme-dns's `/register` answer */
  username: Secret.SecretSource,
  password: Secret.SecretSource,
  subdomain: Schema.String.pipe(Schema.minLength(1)),
  /** from `/register`: when given, the record name (the end of the CNAME chain) must be it */
  fulldomain: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export interface Config {
  readonly baseUrl: string
  readonly username: Redacted.Redacted<string>
  readonly password: Redacted.Redacted<string>
  readonly subdomain: string
  readonly fulldomain?: string | undefined
}

const UpdateAnswer = Schema.parseJson(Schema.Struct({ txt: Schema.String }))
const ErrorAnswer = Schema.parseJson(Schema.Struct({ error: Schema.String }))

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (config: Config): Effect.Effect<DnsProvider.Service, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const url = `${config.baseUrl.replace(/\/+$/, "")}/update`

    const present = (record: DnsProvider.TxtRecord) =>
      Effect.gen(function*() {
        if (config.fulldomain !== undefined && normalise(record.name) !== normalise(config.fulldomain)) {
          return yield* fail(
            "Invalid",
            `the record goes to ${normalise(record.name)}, not to acme-dns's ${normalise(config.fulldomain)}; ` +
              `add the CNAME: _acme-challenge.<your name> (for dns-account-01: _<account label>._acme-challenge.<your name>) ` +
              `CNAME ${normalise(config.fulldomain)}.`
          )
        }
        const answer = yield* send(
          client,
          providerName,
          HttpClientRequest.post(url).pipe(
            HttpClientRequest.setHeaders({
              "X-Api-User": Redacted.value(config.username),
              "X-Api-Key": Redacted.value(config.password)
            }),
            HttpClientRequest.bodyUnsafeJson({ subdomain: config.subdomain, txt: record.value })
          )
        )
        const error = Either.match(Schema.decodeEither(ErrorAnswer)(answer.body), {
          onLeft: () => excerpt(answer.body),
          onRight: (e) => e.error
        })
        if (answer.status === 401 || answer.status === 403) {
          return yield* fail(
            "Unauthorized",
            `POST ${url}: HTTP ${answer.status} (${error}); check username, password and subdomain (from /register)`
          )
        }
        if (answer.status !== 200) {
          return yield* fail("Refused", `POST ${url}: HTTP ${answer.status} (${error})`)
        }
        const ok = Schema.decodeEither(UpdateAnswer)(answer.body)
        if (Either.isLeft(ok) || ok.right.txt !== record.value) {
          return yield* fail("Invalid", `POST ${url}: HTTP 200 without the value it was sent: ${excerpt(answer.body)}`)
        }
      }).pipe(Effect.withSpan("AcmeDns.present", { attributes: { subdomain: config.subdomain } }))

    return { name: providerName, present, cleanup: () => Effect.void }
  })

/**
 * `provider: acme-dns`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  kind: "dns",
  name: providerName,
  description: "acme-dns (a CNAME-delegated DNS server for _acme-challenge)",
  options: Options,
  make: (options, context) =>
    Effect.gen(function*() {
      const username = yield* Secret.resolve(options.username, context, providerName, "username")
      const password = yield* Secret.resolve(options.password, context, providerName, "password")
      return yield* make({ ...options, username, password })
    })
})
