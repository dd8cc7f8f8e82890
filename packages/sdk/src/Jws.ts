/**
 * JSON Web Signatures as ACME uses them (RFC 8555 §6.2): flattened JSON serialization, protected
 * header with `nonce` and `url`, and either `kid` (an account URL) or `jwk` (the public key).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as jose from "jose"
import { KeyError } from "./AcmeError.js"

/**
 * The platform's WebCrypto `CryptoKey`, whichever type library (DOM or Node) declares
 * `globalThis.crypto`.
 *
 * @since 0.1.0
 * @category models
 */
export type CryptoKey = Awaited<ReturnType<typeof globalThis.crypto.subtle.importKey>>

/**
 * @since 0.1.0
 * @category models
 */
export type JwsAlgorithm = "ES256" | "ES384" | "RS256"

/**
 * A public key as a JWK, with only the members RFC 7638 thumbprints use.
 *
 * @since 0.1.0
 * @category models
 */
export type PublicJwk =
  | { readonly kty: "EC"; readonly crv: "P-256" | "P-384"; readonly x: string; readonly y: string }
  | { readonly kty: "RSA"; readonly n: string; readonly e: string }

/**
 * Anything that can sign a JWS: account keys and certificate keys.
 *
 * @since 0.1.0
 * @category models
 */
export interface SigningKey {
  readonly algorithm: JwsAlgorithm
  readonly privateKey: CryptoKey
  readonly publicJwk: PublicJwk
}

/**
 * The flattened JWS JSON serialization (RFC 7515 §7.2.2), the body of every ACME POST.
 *
 * @since 0.1.0
 * @category models
 */
export interface FlattenedJws {
  readonly protected: string
  readonly payload: string
  readonly signature: string
}

const encoder = new TextEncoder()

const describe = (error: unknown): string => error instanceof Error ? error.message : String(error)

const signFlattened = (
  header: jose.JWSHeaderParameters,
  payload: Uint8Array,
  key: CryptoKey | Uint8Array
): Effect.Effect<FlattenedJws, KeyError> =>
  Effect.tryPromise({
    try: () => new jose.FlattenedSign(payload).setProtectedHeader(header).sign(key),
    catch: (error) => new KeyError({ reason: "Sign", description: describe(error) })
  }).pipe(
    Effect.flatMap((jws) =>
      jws.protected === undefined
        ? Effect.fail(new KeyError({ reason: "Sign", description: "the JWS has no protected header" }))
        : Effect.succeed({ protected: jws.protected, payload: jws.payload, signature: jws.signature })
    )
  )

/**
 * Signs an ACME request. The protected header is `{ alg, nonce, url, kid }` when `kid` is given,
 * else `{ alg, nonce, url, jwk }` (newAccount, revocation by certificate key). `nonce` is left out
 * when not given. `payload: undefined` is a POST-as-GET: the JWS payload is the empty string.
 *
 * @since 0.1.0
 * @category constructors
 */
export const sign = (options: {
  readonly key: SigningKey
  readonly url: string
  readonly nonce?: string | undefined
  readonly kid?: string | undefined
  readonly payload: unknown
}): Effect.Effect<FlattenedJws, KeyError> =>
  Effect.suspend(() => {
    const nonce = options.nonce === undefined ? {} : { nonce: options.nonce }
    const header: jose.JWSHeaderParameters = options.kid === undefined
      ? { alg: options.key.algorithm, ...nonce, url: options.url, jwk: { ...options.key.publicJwk } }
      : { alg: options.key.algorithm, ...nonce, url: options.url, kid: options.kid }
    return Effect.try({
      try: () =>
        options.payload === undefined ? new Uint8Array(0) : encoder.encode(JSON.stringify(options.payload)),
      catch: (error) => new KeyError({ reason: "Sign", description: `the payload is not JSON: ${describe(error)}` })
    }).pipe(Effect.flatMap((payload) => signFlattened(header, payload, options.key.privateKey)))
  }).pipe(Effect.withSpan("Jws.sign"))

/** Base64url as RFC 7515 defines it; trailing `=` padding is tolerated. */
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/

/**
 * The external account binding of a newAccount request (RFC 8555 §7.3.4): an HS256 JWS over the
 * account's public JWK with protected header `{ alg: "HS256", kid: keyId, url }`, keyed with the
 * CA-issued MAC key (`hmacKey`, base64url as CAs hand it out).
 *
 * @since 0.1.0
 * @category constructors
 */
export const externalAccountBinding = (options: {
  readonly accountKey: SigningKey
  readonly keyId: string
  readonly hmacKey: string
  readonly url: string
}): Effect.Effect<FlattenedJws, KeyError> => {
  const text = options.hmacKey.trim()
  const invalid = new KeyError({
    reason: "Import",
    description: "the external account binding HMAC key is not base64url (RFC 4648 §5: A-Z a-z 0-9 - _); " +
      "copy it exactly as the CA shows it"
  })
  if (!BASE64URL.test(text)) return Effect.fail(invalid)
  return Effect.try({ try: () => jose.base64url.decode(text.replace(/=+$/, "")), catch: () => invalid }).pipe(
    Effect.filterOrFail((bytes) => bytes.length > 0, () => invalid),
    Effect.flatMap((hmacKey) =>
      signFlattened(
        { alg: "HS256", kid: options.keyId, url: options.url },
        encoder.encode(JSON.stringify(options.accountKey.publicJwk)),
        hmacKey
      )
    ),
    Effect.withSpan("Jws.externalAccountBinding")
  )
}

/**
 * The inner JWS of a key rollover (RFC 8555 §7.3.5), signed by the new key: protected header
 * `{ alg, jwk: newKey.publicJwk, url }` (no nonce), payload `{ account, oldKey: oldKey.publicJwk }`.
 * The result is the payload of an outer JWS signed by the old key.
 *
 * @since 0.1.0
 * @category constructors
 */
export const keyChangeInner = (options: {
  readonly oldKey: SigningKey
  readonly newKey: SigningKey
  readonly account: string
  readonly url: string
}): Effect.Effect<FlattenedJws, KeyError> =>
  signFlattened(
    { alg: options.newKey.algorithm, jwk: { ...options.newKey.publicJwk }, url: options.url },
    encoder.encode(JSON.stringify({ account: options.account, oldKey: options.oldKey.publicJwk })),
    options.newKey.privateKey
  ).pipe(Effect.withSpan("Jws.keyChangeInner"))

/**
 * The RFC 7638 JWK thumbprint (SHA-256, base64url) of a public key, as used in key authorizations.
 *
 * @since 0.1.0
 * @category combinators
 */
export const thumbprint = (jwk: PublicJwk): Effect.Effect<string, KeyError> =>
  Effect.tryPromise({
    try: () => jose.calculateJwkThumbprint({ ...jwk }, "sha256"),
    catch: (error) => new KeyError({ reason: "Export", description: `cannot compute the JWK thumbprint: ${describe(error)}` })
  })
