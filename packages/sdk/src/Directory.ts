/**
 * The ACME directory (RFC 8555 §7.1.1) with its `meta` object, ARI's `renewalInfo` (RFC 9773) and
 * the `profiles` of draft-ietf-acme-profiles.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * @since 0.1.0
 * @category schemas
 */
export const DirectoryMeta = Schema.Struct({
  termsOfService: Schema.optional(Schema.String),
  website: Schema.optional(Schema.String),
  caaIdentities: Schema.optional(Schema.Array(Schema.String)),
  externalAccountRequired: Schema.optional(Schema.Boolean),
  /** profile name → human-readable description */
  profiles: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String }))
})

/**
 * @since 0.1.0
 * @category schemas
 */
export const Directory = Schema.Struct({
  newNonce: Schema.String,
  newAccount: Schema.String,
  newOrder: Schema.String,
  newAuthz: Schema.optional(Schema.String),
  revokeCert: Schema.optional(Schema.String),
  keyChange: Schema.optional(Schema.String),
  renewalInfo: Schema.optional(Schema.String),
  meta: Schema.optional(DirectoryMeta)
})

/**
 * @since 0.1.0
 * @category models
 */
export type Directory = typeof Directory.Type

/**
 * Whether the CA offers ACME Renewal Information (RFC 9773).
 *
 * @since 0.1.0
 * @category guards
 */
export const supportsRenewalInfo = (directory: Directory): boolean => directory.renewalInfo !== undefined

/**
 * The certificate profiles the CA offers, by name.
 *
 * @since 0.1.0
 * @category combinators
 */
export const profiles = (directory: Directory): ReadonlyArray<string> => Object.keys(directory.meta?.profiles ?? {})
