/**
 * pebble-challtestsrv's management API as a DNS provider: the DNS server of Pebble's test setup
 * (and of `acme demo`). `present` is `POST /set-txt`, `cleanup` `POST /clear-txt`. challtestsrv
 * cannot remove one value: `/clear-txt` removes every TXT value of the name, so clean up a
 * wildcard and its base name together. Its DNS server is not in the public DNS tree: give the
 * responder `propagation: { nameservers: ["127.0.0.1:<its DNS port>"] }` (or `check: false`).
 *
 * ```yaml
 * challenge:
 *   type: dns-01
 *   provider: challtestsrv
 *   url: http://127.0.0.1:8055
 *   propagation: { nameservers: ["127.0.0.1:8053"] }
 * ```
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as DnsProvider from "@acme/sdk/DnsProvider"
import * as Plugin from "@acme/sdk/Plugin"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { excerpt, providerError, send } from "./internal/http.js"
import { normalise } from "./internal/names.js"

const providerName = "challtestsrv"
const fail = providerError(providerName)

/**
 * @since 0.1.0
 * @category schemas
 */
export const Options = Schema.Struct({
  /** the management API, e.g. `http://127.0.0.1:8055` */
  url: Schema.String.pipe(Schema.filter((u) => URL.canParse(u) || `"${u}" is not a URL`))
})

/**
 * @since 0.1.0
 * @category models
 */
export interface Config {
  readonly url: string
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (config: Config): Effect.Effect<DnsProvider.Service, never, HttpClient.HttpClient> =>
  Effect.map(HttpClient.HttpClient, (client) => {
    const call = (operation: string, body: Record<string, string>) => {
      const url = new URL(operation, config.url).href
      return send(client, providerName, HttpClientRequest.post(url).pipe(HttpClientRequest.bodyUnsafeJson(body))).pipe(
        Effect.flatMap((answer) =>
          answer.status === 200
            ? Effect.void
            : fail("Refused", `POST ${url}: HTTP ${answer.status}: ${excerpt(answer.body)}`)
        )
      )
    }
    return {
      name: providerName,
      // challtestsrv answers Pebble's DNS queries itself, from what was just set
      visibleAtOnce: true,
      present: (record) => call("/set-txt", { host: `${normalise(record.name)}.`, value: record.value }),
      cleanup: (record) => call("/clear-txt", { host: `${normalise(record.name)}.` })
    }
  })

/**
 * `provider: challtestsrv`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  kind: "dns",
  name: providerName,
  description: "pebble-challtestsrv's test DNS server (tests and the demo)",
  options: Options,
  make: (options) => make(options)
})
