/**
 * Revocation reasons (RFC 5280 §5.3.1) as the names operators use, and their codes.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * The reasons ACME CAs accept. Let's Encrypt takes these five; codes 2 (cACompromise), 6
 * (certificateHold), 8 (removeFromCRL), 9 (privilegeWithdrawn) and 10 (aACompromise) are not for
 * subscribers.
 *
 * @since 0.1.0
 * @category schemas
 */
export const RevocationReason = Schema.Literal(
  "unspecified",
  "keyCompromise",
  "affiliationChanged",
  "superseded",
  "cessationOfOperation"
)

/**
 * @since 0.1.0
 * @category models
 */
export type RevocationReason = typeof RevocationReason.Type

/**
 * @since 0.1.0
 * @category models
 */
export const codes: { readonly [K in RevocationReason]: number } = {
  unspecified: 0,
  keyCompromise: 1,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5
}

/**
 * The RFC 5280 code of a reason.
 *
 * @since 0.1.0
 * @category combinators
 */
export const toCode = (reason: RevocationReason): number => codes[reason]
