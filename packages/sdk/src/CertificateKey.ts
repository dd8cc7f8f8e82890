/**
 * The key of a certificate: the one its CSR is signed with and whose public half the certificate
 * binds. It can also sign a JWS (revocation by the certificate's own key, RFC 8555 §7.6).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Inspectable from "effect/Inspectable"
import * as Schema from "effect/Schema"
import { KeyError } from "./AcmeError.js"
import * as keys from "./internal/keys.js"
import type * as Jws from "./Jws.js"

/**
 * The certificate key types: EC P-256 and P-384 (signing ES256/ES384), RSA 2048/3072/4096 (RS256).
 *
 * @since 0.1.0
 * @category schemas
 */
export const KeyType: Schema.Literal<["ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096"]> = Schema.Literal(
  "ec-p256",
  "ec-p384",
  "rsa-2048",
  "rsa-3072",
  "rsa-4096"
)

/**
 * @since 0.1.0
 * @category models
 */
export type KeyType = typeof KeyType.Type

/**
 * A certificate key pair. Built only by {@link generate} and {@link fromPem}. Printing it
 * (`String`, `JSON.stringify`, `util.inspect`, Effect's logger) shows its type, never key material.
 *
 * @since 0.1.0
 * @category models
 */
export class CertificateKey implements Jws.SigningKey, Inspectable.Inspectable {
  readonly type: KeyType
  readonly algorithm: Jws.JwsAlgorithm
  readonly privateKey: Jws.CryptoKey
  readonly publicKey: Jws.CryptoKey
  readonly publicJwk: Jws.PublicJwk

  /** @internal */
  constructor(
    _: typeof keys.Sealed,
    fields: {
      readonly type: KeyType
      readonly algorithm: Jws.JwsAlgorithm
      readonly privateKey: Jws.CryptoKey
      readonly publicKey: Jws.CryptoKey
      readonly publicJwk: Jws.PublicJwk
    }
  ) {
    this.type = fields.type
    this.algorithm = fields.algorithm
    this.privateKey = fields.privateKey
    this.publicKey = fields.publicKey
    this.publicJwk = fields.publicJwk
  }

  toString(): string {
    return `CertificateKey(${this.type}, ${this.algorithm})`
  }

  toJSON(): { readonly _id: "CertificateKey"; readonly type: KeyType; readonly algorithm: Jws.JwsAlgorithm } {
    return { _id: "CertificateKey", type: this.type, algorithm: this.algorithm }
  }

  /** Also `util.inspect.custom`: `NodeInspectSymbol` is `Symbol.for("nodejs.util.inspect.custom")`. */
  [Inspectable.NodeInspectSymbol](): unknown {
    return this.toJSON()
  }
}

const specOf = (type: KeyType): keys.KeySpec => {
  switch (type) {
    case "ec-p256":
      return { kty: "EC", crv: "P-256" }
    case "ec-p384":
      return { kty: "EC", crv: "P-384" }
    case "rsa-2048":
      return { kty: "RSA", modulusLength: 2048 }
    case "rsa-3072":
      return { kty: "RSA", modulusLength: 3072 }
    case "rsa-4096":
      return { kty: "RSA", modulusLength: 4096 }
  }
}

const typeOf = (spec: keys.KeySpec): Effect.Effect<KeyType, KeyError> => {
  if (spec.kty === "EC") return Effect.succeed(spec.crv === "P-256" ? "ec-p256" : "ec-p384")
  const type = `rsa-${spec.modulusLength}`
  return Schema.is(KeyType)(type)
    ? Effect.succeed(type)
    : Effect.fail(
      new KeyError({
        reason: "UnsupportedAlgorithm",
        description: `RSA key of ${spec.modulusLength} bits; certificate keys are RSA 2048, 3072 or 4096`
      })
    )
}

const make = (material: keys.KeyMaterial): Effect.Effect<CertificateKey, KeyError> =>
  Effect.map(
    typeOf(material.spec),
    (type) =>
      new CertificateKey(keys.Sealed, {
        type,
        algorithm: material.algorithm,
        privateKey: material.privateKey,
        publicKey: material.publicKey,
        publicJwk: material.publicJwk
      })
  )

/**
 * Generates a new extractable certificate key of the given type.
 *
 * @since 0.1.0
 * @category constructors
 */
export const generate = (type: KeyType): Effect.Effect<CertificateKey, KeyError> =>
  keys.generate(specOf(type)).pipe(
    Effect.flatMap(make),
    Effect.withSpan("CertificateKey.generate", { attributes: { type } })
  )

/**
 * Reads a private key PEM: PKCS#8 (`PRIVATE KEY`), SEC1 (`EC PRIVATE KEY`) or PKCS#1
 * (`RSA PRIVATE KEY`), and detects its type. Other curves and RSA sizes fail with
 * `UnsupportedAlgorithm`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromPem = (pem: string): Effect.Effect<CertificateKey, KeyError> =>
  keys.fromPem(pem).pipe(Effect.flatMap(make), Effect.withSpan("CertificateKey.fromPem"))

/**
 * The private key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), what web servers load.
 *
 * @since 0.1.0
 * @category combinators
 */
export const toPem = (key: CertificateKey): Effect.Effect<string, KeyError> => keys.toPem(key.privateKey)
