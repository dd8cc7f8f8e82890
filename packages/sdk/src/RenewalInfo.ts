/**
 * ACME Renewal Information (RFC 9773).
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import type * as Duration from "effect/Duration"
import * as Option from "effect/Option"
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

/**
 * Why a suggested window cannot be followed for a certificate, or None when it can:
 *
 * - it ends before it starts, or it begins when the certificate has expired already (past
 *   `notAfter`): absurd;
 * - it began before the certificate was issued (`issuedAt`, else `notBefore`): stale, it is about
 *   an earlier certificate. Following it would renew at once, and the new certificate, told the same,
 *   again: the renewal storm of cert-manager#8993 (five certificates in ten seconds). A fresh
 *   certificate's own window lies in its future, and a CA that wants an early renewal (a revocation)
 *   moves the window to a time after the issuance it is about.
 *
 * The planner then plans by the certificate's lifetime and says why in its reason; the scan asks the
 * CA once more first (the answer may have been stale in a cache).
 *
 * @since 0.1.0
 * @category combinators
 */
export const windowProblem = (
  window: { readonly start: string; readonly end: string },
  certificate: { readonly notBefore: string; readonly notAfter: string; readonly issuedAt?: string | undefined }
): Option.Option<string> => {
  const millis = (text: string | undefined) =>
    text === undefined ? undefined : Option.getOrUndefined(Option.map(DateTime.make(text), DateTime.toEpochMillis))
  const start = millis(window.start)
  const end = millis(window.end)
  const notAfter = millis(certificate.notAfter)
  const issued = millis(certificate.issuedAt) ?? millis(certificate.notBefore)
  if (start === undefined || end === undefined) return Option.some("its times cannot be read")
  if (end <= start) return Option.some("it ends before it starts")
  if (notAfter !== undefined && start >= notAfter) return Option.some("it begins after the certificate expires")
  if (issued !== undefined && start <= issued) {
    return Option.some(
      end <= issued
        ? "it ended before this certificate was issued, so it is about an earlier one"
        : "it was open already when this certificate was issued, so it is about an earlier one"
    )
  }
  return Option.none()
}
