/**
 * An example plugin for the `acme` CLI: a dns-01 provider that hands each TXT record to an HTTP
 * endpoint of your own, in the format of lego's `httpreq` provider:
 *
 * - `POST <endpoint>/present` with `{ "fqdn": "_acme-challenge.example.org.", "value": "..." }`
 * - `POST <endpoint>/cleanup` with the same body
 *
 * and, when `username` is set, HTTP basic authentication with the password from the environment
 * variable `passwordEnv`.
 *
 * ```yaml
 * challenge:
 *   type: dns-01
 *   plugin: acme-plugin-httpreq
 *   provider: httpreq
 *   endpoint: https://dns-api.internal.example/acme
 *   username: acme
 *   passwordEnv: HTTPREQ_PASSWORD
 * ```
 *
 * A plugin is a value made with `Plugin.make`: a kind, a name, a Schema for its options and a
 * `make` that builds the service. Export it as `default`, as `plugin`, or in a list `plugins`.
 */
import * as DnsProvider from "@acme/sdk/DnsProvider"
import * as Plugin from "@acme/sdk/Plugin"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

const Options = Schema.Struct({
  /** the base URL: records go to `<endpoint>/present` and `<endpoint>/cleanup` */
  endpoint: Schema.String.pipe(
    Schema.filter((url) => /^https?:\/\//.test(url) && URL.canParse(url) || `"${url}" is not an http(s) URL`)
  ),
  /** basic authentication: the user name */
  username: Schema.optional(Schema.String),
  /** basic authentication: the environment variable that holds the password */
  passwordEnv: Schema.optional(Schema.String.pipe(Schema.pattern(/^[A-Za-z_][A-Za-z0-9_]*$/)))
})

export const plugin = Plugin.make({
  kind: "dns",
  name: "httpreq",
  description: "sends each TXT record to your own HTTP endpoint (lego's httpreq format)",
  options: Options,
  make: (options, context) =>
    Effect.gen(function*() {
      const client = yield* HttpClient.HttpClient
      const password = options.passwordEnv !== undefined ? Option.some(yield* context.env(options.passwordEnv)) : Option.none()
      const send = (action: "present" | "cleanup", record: DnsProvider.TxtRecord) =>
        HttpClientRequest.post(`${options.endpoint.replace(/\/$/, "")}/${action}`).pipe(
          HttpClientRequest.bodyUnsafeJson({ fqdn: `${record.name}.`, value: record.value }),
          (request) =>
            options.username !== undefined && Option.isSome(password)
              ? HttpClientRequest.basicAuth(request, options.username, password.value)
              : request,
          client.execute,
          Effect.mapError((error) =>
            new DnsProvider.DnsProviderError({ provider: "httpreq", reason: "Transport", description: error.message })
          ),
          Effect.flatMap((response) =>
            response.status >= 200 && response.status < 300
              ? Effect.void
              : Effect.fail(
                new DnsProvider.DnsProviderError({
                  provider: "httpreq",
                  reason: response.status === 401 || response.status === 403 ? "Unauthorized" : "Refused",
                  description: `${options.endpoint} answered HTTP ${response.status} to ${action}`
                })
              )
          ),
          Effect.scoped
        )
      return {
        name: "httpreq",
        present: (record) => send("present", record),
        cleanup: (record) => send("cleanup", record)
      } satisfies DnsProvider.Service
    })
})

export default plugin
