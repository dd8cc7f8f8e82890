/**
 * Anti-replay nonces (RFC 8555 §6.5). A nonce is a value, threaded by the caller from one signed
 * request to the next; the protocol service never keeps one.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * @since 0.1.0
 * @category schemas
 */
export const Nonce = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z0-9_-]+$/, { message: () => "a nonce is base64url text" }),
  Schema.brand("@acme/sdk/Nonce")
)

/**
 * @since 0.1.0
 * @category models
 */
export type Nonce = typeof Nonce.Type

/**
 * Whether a header value is a syntactically valid nonce (base64url, RFC 8555 §6.5.1).
 *
 * @since 0.1.0
 * @category guards
 */
export const isNonce: (u: unknown) => u is Nonce = Schema.is(Nonce)

/**
 * The result of a signed request together with the nonce to use for the next one.
 *
 * @since 0.1.0
 * @category models
 */
export interface Signed<A> {
  readonly value: A
  readonly nonce: Nonce
}
