/**
 * The ACME account key: the key every request to the CA is signed with (RFC 8555 §6.2).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Inspectable from "effect/Inspectable"
import type * as jose from "jose"
import type { KeyError } from "./AcmeError.js"
import * as keys from "./internal/keys.js"
import * as Jws from "./Jws.js"

/**
 * @since 0.1.0
 * @category models
 */
export type Algorithm = Jws.JwsAlgorithm

/**
 * An account key pair with its RFC 7638 thumbprint. Built only by {@link generate},
 * {@link fromPem} and {@link fromJwk}. Printing it (`String`, `JSON.stringify`, `util.inspect`,
 * Effect's logger) shows the algorithm and thumbprint, never key material.
 *
 * @since 0.1.0
 * @category models
 */
export class AccountKey implements Jws.SigningKey, Inspectable.Inspectable {
  readonly algorithm: Algorithm
  readonly privateKey: Jws.CryptoKey
  readonly publicJwk: Jws.PublicJwk
  /** RFC 7638 thumbprint (SHA-256, base64url): the second half of every key authorization. */
  readonly thumbprint: string

  /** @internal */
  constructor(
    _: typeof keys.Sealed,
    fields: {
      readonly algorithm: Algorithm
      readonly privateKey: Jws.CryptoKey
      readonly publicJwk: Jws.PublicJwk
      readonly thumbprint: string
    }
  ) {
    this.algorithm = fields.algorithm
    this.privateKey = fields.privateKey
    this.publicJwk = fields.publicJwk
    this.thumbprint = fields.thumbprint
  }

  toString(): string {
    return `AccountKey(${this.algorithm}, thumbprint=${this.thumbprint})`
  }

  toJSON(): { readonly _id: "AccountKey"; readonly algorithm: Algorithm; readonly thumbprint: string } {
    return { _id: "AccountKey", algorithm: this.algorithm, thumbprint: this.thumbprint }
  }

  /** Also `util.inspect.custom`: `NodeInspectSymbol` is `Symbol.for("nodejs.util.inspect.custom")`. */
  [Inspectable.NodeInspectSymbol](): unknown {
    return this.toJSON()
  }
}

const make = (material: keys.KeyMaterial): Effect.Effect<AccountKey, KeyError> =>
  Effect.map(
    Jws.thumbprint(material.publicJwk),
    (thumbprint) =>
      new AccountKey(keys.Sealed, {
        algorithm: material.algorithm,
        privateKey: material.privateKey,
        publicJwk: material.publicJwk,
        thumbprint
      })
  )

/**
 * Generates a new extractable account key: ES256 (EC P-256) by default, ES384 (EC P-384), or
 * RS256 with a 2048-bit modulus unless `modulusLength` says otherwise.
 *
 * @since 0.1.0
 * @category constructors
 */
export const generate = (
  algorithm: Algorithm = "ES256",
  options?: { readonly modulusLength?: 2048 | 3072 | 4096 | undefined }
): Effect.Effect<AccountKey, KeyError> =>
  keys.generate(
    algorithm === "RS256"
      ? { kty: "RSA", modulusLength: options?.modulusLength ?? 2048 }
      : { kty: "EC", crv: algorithm === "ES256" ? "P-256" : "P-384" }
  ).pipe(Effect.flatMap(make), Effect.withSpan("AccountKey.generate", { attributes: { algorithm } }))

/**
 * Reads a private key PEM: PKCS#8 (`PRIVATE KEY`), SEC1 (`EC PRIVATE KEY`, as lego and
 * `openssl ecparam` write) or PKCS#1 (`RSA PRIVATE KEY`). EC P-256 signs ES256, EC P-384 ES384 and
 * RSA (at least 2048 bits) RS256; anything else fails with `UnsupportedAlgorithm`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromPem = (pem: string): Effect.Effect<AccountKey, KeyError> =>
  keys.fromPem(pem).pipe(Effect.flatMap(make), Effect.withSpan("AccountKey.fromPem"))

/**
 * Reads a private JWK (EC P-256, EC P-384 or RSA ≥ 2048 bits). An `alg` member, when present,
 * must be the one the key signs with.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromJwk = (jwk: unknown): Effect.Effect<AccountKey, KeyError> =>
  keys.fromJwk(jwk).pipe(Effect.flatMap(make), Effect.withSpan("AccountKey.fromJwk"))

/**
 * The private key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
 *
 * @since 0.1.0
 * @category combinators
 */
export const toPem = (key: AccountKey): Effect.Effect<string, KeyError> => keys.toPem(key.privateKey)

/**
 * The private key as a JWK, with its `alg`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const toJwk = (key: AccountKey): Effect.Effect<jose.JWK, KeyError> => keys.toJwk(key.privateKey, key.algorithm)
