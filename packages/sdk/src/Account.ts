/**
 * ACME account resources (RFC 8555 §7.1.2).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import type { AccountKey } from "./AccountKey.js"

/**
 * @since 0.1.0
 * @category schemas
 */
export const AccountStatus = Schema.Literal("valid", "deactivated", "revoked")

/**
 * The account object as the CA sends it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AccountBody = Schema.Struct({
  status: AccountStatus,
  contact: Schema.optional(Schema.Array(Schema.String)),
  termsOfServiceAgreed: Schema.optional(Schema.Boolean),
  orders: Schema.optional(Schema.String)
})

/**
 * An account: its URL (the `kid` of every request it signs) and what the CA says about it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Account {
  readonly url: string
  readonly status: typeof AccountStatus.Type
  readonly contact: ReadonlyArray<string>
  readonly termsOfServiceAgreed: boolean | undefined
  readonly orders: string | undefined
  /** true when this request created the account (201), false when it already existed (200) */
  readonly created: boolean
}

/**
 * What a signed request needs to act as an account: its key and its URL. Lives only in memory.
 *
 * @since 0.1.0
 * @category models
 */
export interface AccountRef {
  readonly key: AccountKey
  readonly url: string
}

/**
 * External Account Binding credentials (RFC 8555 §7.3.4): the key id and the base64url HMAC key
 * the CA handed out.
 *
 * @since 0.1.0
 * @category models
 */
export interface ExternalAccountBinding {
  readonly keyId: string
  readonly hmacKey: string
}
