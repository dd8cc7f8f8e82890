/**
 * ACME Renewal Information (RFC 9773).
 *
 * @since 0.1.0
 */
import type * as DateTime from "effect/DateTime"
import type * as Duration from "effect/Duration"
import * as Schema from "effect/Schema"

/**
 * The `renewalInfo` response body.
 *
 * @since 0.1.0
 * @category schemas
 */
export const RenewalInfoBody = Schema.Struct({
  suggestedWindow: Schema.Struct({
    start: Schema.DateTimeUtc,
    end: Schema.DateTimeUtc
  }),
  explanationURL: Schema.optional(Schema.String)
})

/**
 * The CA's renewal advice for one certificate.
 *
 * @since 0.1.0
 * @category models
 */
export interface RenewalInfo {
  readonly certId: string
  readonly suggestedWindow: { readonly start: DateTime.Utc; readonly end: DateTime.Utc }
  readonly explanationURL: string | undefined
  /** when to ask again (the response's `Retry-After`), if the CA said */
  readonly retryAfter: Duration.Duration | undefined
}
