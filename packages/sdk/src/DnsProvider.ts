/**
 * A DNS provider for dns-01: something that can put a TXT record into a zone and take it out again.
 * The dns-01 responder (`@acme/dns`) builds on it: it follows a `_acme-challenge` CNAME delegation,
 * asks the provider to set the record, waits until the zone's authoritative servers answer with it,
 * and removes it afterwards. A provider knows only its API (RFC 2136, Cloudflare, Route53, acme-dns,
 * challtestsrv, a plugin's).
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

/**
 * One TXT record: `name` is the fully qualified name without the trailing dot
 * (`_acme-challenge.example.org`, or the target of its CNAME), `value` the dns-01 TXT value.
 *
 * @since 0.1.0
 * @category models
 */
export interface TxtRecord {
  readonly name: string
  readonly value: string
}

/**
 * A DNS provider could not set or remove a record. `description` says what the provider answered
 * (never a credential).
 *
 * @since 0.1.0
 * @category errors
 */
export class DnsProviderError extends Schema.TaggedError<DnsProviderError>("@acme/sdk/DnsProviderError")(
  "DnsProviderError",
  {
    provider: Schema.String,
    reason: Schema.Literal("Unauthorized", "NotFound", "Refused", "Transport", "Invalid"),
    description: Schema.String
  }
) {
  override get message(): string {
    return `DNS provider ${this.provider}: ${this.description}`
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** the provider's name, for messages */
  readonly name: string
  /** adds the record (other TXT values at the same name stay: a wildcard and its base name share one) */
  readonly present: (record: TxtRecord) => Effect.Effect<void, DnsProviderError>
  /** removes exactly this value at this name */
  readonly cleanup: (record: TxtRecord) => Effect.Effect<void, DnsProviderError>
  /**
   * The record is served at once by the server the CA asks (pebble-challtestsrv): no propagation
   * check unless the configuration asks for one.
   */
  readonly visibleAtOnce?: boolean | undefined
}
