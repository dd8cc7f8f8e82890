/**
 * The settings every program of the SDK runs with (renew, revoke, account, status): the
 * configuration, with its secrets resolved. The CLI builds them from the config file; an embedding
 * program provides them with {@link layer}.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as RenewalConfig from "./RenewalConfig.js"

/**
 * The configuration of a run, with its secrets resolved.
 *
 * @since 0.1.0
 * @category models
 */
export interface Settings {
  readonly config: RenewalConfig.RenewalConfig
  /** External Account Binding credentials, resolved from the config (and the environment) */
  readonly eab: Option.Option<{ readonly keyId: string; readonly hmacKey: Redacted.Redacted<string> }>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class RenewalSettings extends Context.Tag("@acme/sdk/RenewalSettings")<RenewalSettings, Settings>() {}

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (settings: Settings): Layer.Layer<RenewalSettings> => Layer.succeed(RenewalSettings, settings)

/**
 * The directory URL of the configured CA.
 *
 * @since 0.1.0
 * @category accessors
 */
export const directoryUrl: Effect.Effect<string, never, RenewalSettings> = Effect.map(
  RenewalSettings,
  (settings) => RenewalConfig.directoryUrl(settings.config.ca)
)
