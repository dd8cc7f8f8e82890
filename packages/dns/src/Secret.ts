/**
 * Secrets in a DNS provider's options: the value itself, or `{ env: NAME }` to read it from the
 * environment when the provider is built (the same shape as `RenewalConfig.SecretSource`). A
 * resolved secret is `Redacted`: it prints as `<redacted>` in logs, traces and errors.
 *
 * @since 0.1.0
 */
import * as Plugin from "@acme/sdk/Plugin"
import * as RenewalConfig from "@acme/sdk/RenewalConfig"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Schema from "effect/Schema"

/**
 * `"value"` or `{ env: NAME }`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SecretSource: Schema.Schema<RenewalConfig.SecretSource, RenewalConfig.SecretSource> =
  RenewalConfig.SecretSource

/**
 * Reads a secret: a plain value as it is, `{ env: NAME }` through the plugin context's `env`
 * (which fails with a PluginError naming the variable). An empty value is an error too.
 *
 * @since 0.1.0
 * @category combinators
 */
export const resolve = (
  source: RenewalConfig.SecretSource,
  context: Pick<Plugin.MakeContext, "env">,
  plugin: string,
  field: string
): Effect.Effect<Redacted.Redacted<string>, Plugin.PluginError> =>
  Effect.flatMap(
    typeof source === "string" ? Effect.succeed(source) : context.env(source.env),
    (value) =>
      value.length > 0
        ? Effect.succeed(Redacted.make(value))
        : Effect.fail(
          new Plugin.PluginError({
            plugin,
            description: `${field} is empty${
              typeof source === "string" ? "" : ` (environment variable ${source.env})`
            }; set it to the credential`
          })
        )
  )
