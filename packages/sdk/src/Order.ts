/**
 * ACME order resources (RFC 8555 §7.1.3), with RFC 8738 IP identifiers, the `profile` of
 * draft-ietf-acme-profiles and ARI's `replaces` (RFC 9773 §5).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { Subproblem } from "./AcmeError.js"
import { Identifier } from "./Identifier.js"

/**
 * @since 0.1.0
 * @category schemas
 */
export const OrderStatus = Schema.Literal("pending", "ready", "processing", "valid", "invalid")

/**
 * @since 0.1.0
 * @category models
 */
export type OrderStatus = typeof OrderStatus.Type

/**
 * An order status as received: the five of RFC 8555 §7.1.6 are kept, anything else (Pebble 2.4
 * reports `deactivated` once an authorization was deactivated) is a state the order cannot go on
 * from, and decodes as `invalid`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const OrderStatusFromWire = Schema.transform(Schema.String, OrderStatus, {
  strict: true,
  decode: (status) => Schema.is(OrderStatus)(status) ? status : "invalid" as const,
  encode: (status) => status
})

/**
 * A problem document embedded in a resource (an order's or a challenge's `error`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const EmbeddedProblem = Schema.Struct({
  type: Schema.String,
  detail: Schema.optional(Schema.String),
  status: Schema.optional(Schema.Number),
  subproblems: Schema.optional(Schema.Array(Subproblem))
})

/**
 * The order object as the CA sends it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const OrderBody = Schema.Struct({
  status: OrderStatusFromWire,
  expires: Schema.optional(Schema.String),
  identifiers: Schema.Array(Identifier),
  notBefore: Schema.optional(Schema.String),
  notAfter: Schema.optional(Schema.String),
  error: Schema.optional(EmbeddedProblem),
  authorizations: Schema.Array(Schema.String),
  finalize: Schema.String,
  certificate: Schema.optional(Schema.String),
  profile: Schema.optional(Schema.String),
  replaces: Schema.optional(Schema.String)
})

/**
 * An order and its URL (from the `Location` of newOrder, or the URL it was fetched from).
 *
 * @since 0.1.0
 * @category models
 */
export interface Order extends Schema.Schema.Type<typeof OrderBody> {
  readonly url: string
}

/**
 * What to order.
 *
 * @since 0.1.0
 * @category models
 */
export interface NewOrder {
  readonly identifiers: ReadonlyArray<Identifier>
  /** RFC 3339 date-time */
  readonly notBefore?: string | undefined
  /** RFC 3339 date-time */
  readonly notAfter?: string | undefined
  /** a profile name from the directory's `meta.profiles` */
  readonly profile?: string | undefined
  /** ARI CertID of the certificate this order replaces (RFC 9773 §5) */
  readonly replaces?: string | undefined
}
