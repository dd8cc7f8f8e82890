/**
 * The provider packages whose plugins are built in: DNS providers for dns-01 and the LLM planner and
 * reporter.
 *
 * @since 0.1.0
 */
import { DnsProvider, Plugin } from "@acme/sdk"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { Effect, Schema } from "effect"

const challtestsrv = Plugin.make({
  kind: "dns",
  name: "challtestsrv",
  description: "pebble-challtestsrv's management API (tests and the demo)",
  options: Schema.Struct({ url: Schema.String.pipe(Schema.filter((u) => URL.canParse(u) || `"${u}" is not a URL`)) }),
  make: (options) =>
    Effect.map(HttpClient.HttpClient, (client): DnsProvider.Service => {
      const call = (path: string, body: Record<string, string>) =>
        HttpClientRequest.post(new URL(path, options.url).href).pipe(
          HttpClientRequest.bodyUnsafeJson(body),
          client.execute,
          Effect.mapError((error) =>
            new DnsProvider.DnsProviderError({ provider: "challtestsrv", reason: "Transport", description: error.message })
          ),
          Effect.flatMap((response) =>
            response.status === 200 ? Effect.void : Effect.fail(
              new DnsProvider.DnsProviderError({
                provider: "challtestsrv",
                reason: "Refused",
                description: `${options.url} answered HTTP ${response.status}`
              })
            )
          ),
          Effect.scoped
        )
      return {
        name: "challtestsrv",
        present: (record) => call("/set-txt", { host: `${record.name}.`, value: record.value }),
        cleanup: (record) => call("/clear-txt", { host: `${record.name}.` })
      }
    })
})

/**
 * @since 0.1.0
 * @category plugins
 */
export const Dns = { plugins: [Plugin.configurable(challtestsrv)] }

/**
 * @since 0.1.0
 * @category plugins
 */
export const Llm: { readonly plugins: ReadonlyArray<Plugin.Configurable> } = { plugins: [] }
