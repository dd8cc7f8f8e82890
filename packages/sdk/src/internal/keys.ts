/**
 * Key generation, import (PKCS#8, SEC1, PKCS#1 PEM and private JWK), type detection and export,
 * shared by `AccountKey` and `CertificateKey`. Everything goes through `globalThis.crypto`.
 */
import * as Effect from "effect/Effect"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import * as jose from "jose"
import { KeyError } from "../AcmeError.js"
import type { CryptoKey, JwsAlgorithm, PublicJwk } from "../Jws.js"
import { describeParseError } from "./parseIssue.js"
import * as X509 from "./x509.js"

/** Passed to the key classes' constructors so that only this package builds them. */
export const Sealed: unique symbol = Symbol.for("@acme/sdk/internal/keys/Sealed")

/** What to generate, or what an imported key turned out to be. */
export type KeySpec =
  | { readonly kty: "EC"; readonly crv: "P-256" | "P-384" }
  | { readonly kty: "RSA"; readonly modulusLength: number }

/** A usable key pair with everything both key classes need. */
export interface KeyMaterial {
  readonly spec: KeySpec
  readonly algorithm: JwsAlgorithm
  readonly privateKey: CryptoKey
  readonly publicKey: CryptoKey
  readonly publicJwk: PublicJwk
}

const RSA_ENCRYPTION = "1.2.840.113549.1.1.1"
// the values of @peculiar/asn1-ecc's id_ecPublicKey, id_secp256r1 and id_secp384r1 (RFC 5480 §2.1.1),
// written out so that key type names need no ASN.1 module loaded
const id_ecPublicKey = "1.2.840.10045.2.1"
const id_secp256r1 = "1.2.840.10045.3.1.7"
const id_secp384r1 = "1.3.132.0.34"

const KNOWN_OIDS: Readonly<Record<string, string>> = {
  [id_secp256r1]: "P-256",
  [id_secp384r1]: "P-384",
  "1.3.132.0.35": "P-521",
  "1.3.132.0.10": "secp256k1",
  "1.3.101.110": "X25519",
  "1.3.101.111": "X448",
  "1.3.101.112": "Ed25519",
  "1.3.101.113": "Ed448",
  "1.2.840.113549.1.1.10": "RSASSA-PSS",
  "1.2.840.10040.4.1": "DSA"
}

const oidName = (oid: string): string => {
  const name = KNOWN_OIDS[oid]
  return name === undefined ? oid : `${name} (${oid})`
}

const describe = (error: unknown): string => error instanceof Error ? error.message : String(error)

const importError = (description: string) => new KeyError({ reason: "Import", description })
const unsupported = (description: string) => new KeyError({ reason: "UnsupportedAlgorithm", description })

/** The JWS algorithm a key of this shape signs with. */
export const algorithmOf = (spec: KeySpec): JwsAlgorithm =>
  spec.kty === "RSA" ? "RS256" : spec.crv === "P-256" ? "ES256" : "ES384"

/** WebCrypto import parameters for a key of this algorithm. */
const importParams = (algorithm: JwsAlgorithm): { readonly name: string; readonly namedCurve?: string; readonly hash?: string } =>
  algorithm === "RS256"
    ? { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }
    : { name: "ECDSA", namedCurve: algorithm === "ES256" ? "P-256" : "P-384" }

/** WebCrypto signature parameters (also what `@peculiar/x509` expects as `signingAlgorithm`). */
export const signatureParams = (algorithm: JwsAlgorithm): { readonly name: string; readonly hash: string } => {
  switch (algorithm) {
    case "ES256":
      return { name: "ECDSA", hash: "SHA-256" }
    case "ES384":
      return { name: "ECDSA", hash: "SHA-384" }
    case "RS256":
      return { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }
  }
}

const publicJwkOf = (jwk: {
  readonly kty?: string | undefined
  readonly crv?: string | undefined
  readonly x?: string | undefined
  readonly y?: string | undefined
  readonly n?: string | undefined
  readonly e?: string | undefined
}): PublicJwk | undefined => {
  if (jwk.kty === "EC" && (jwk.crv === "P-256" || jwk.crv === "P-384") && jwk.x !== undefined && jwk.y !== undefined) {
    return { kty: "EC", crv: jwk.crv, x: jwk.x, y: jwk.y }
  }
  if (jwk.kty === "RSA" && jwk.n !== undefined && jwk.e !== undefined) {
    return { kty: "RSA", n: jwk.n, e: jwk.e }
  }
  return undefined
}

const modulusLengthOf = (key: CryptoKey): number | undefined => {
  const algorithm: unknown = key.algorithm
  return Predicate.hasProperty(algorithm, "modulusLength") && typeof algorithm.modulusLength === "number"
    ? algorithm.modulusLength
    : undefined
}

/**
 * Completes an imported private key: derives the public JWK and public CryptoKey from it, and
 * refuses RSA keys shorter than 2048 bits.
 */
const complete = Effect.fnUntraced(function*(privateKey: CryptoKey, algorithm: JwsAlgorithm) {
  const jwk = yield* Effect.tryPromise({
    try: () => globalThis.crypto.subtle.exportKey("jwk", privateKey),
    catch: (error) => new KeyError({ reason: "Export", description: describe(error) })
  })
  const publicJwk = publicJwkOf(jwk)
  if (publicJwk === undefined) {
    return yield* importError(`the key exported as an unexpected JWK (kty ${String(jwk.kty)})`)
  }
  let spec: KeySpec
  if (publicJwk.kty === "EC") {
    spec = { kty: "EC", crv: publicJwk.crv }
  } else {
    const modulusLength = modulusLengthOf(privateKey)
    if (modulusLength === undefined) return yield* importError("the RSA key does not tell its modulus length")
    if (modulusLength < 2048) {
      return yield* unsupported(`RSA key of ${modulusLength} bits; at least 2048 bits are required`)
    }
    spec = { kty: "RSA", modulusLength }
  }
  const publicKey = yield* Effect.tryPromise({
    try: () => globalThis.crypto.subtle.importKey("jwk", { ...publicJwk }, importParams(algorithm), true, ["verify"]),
    catch: (error) => importError(`cannot derive the public key: ${describe(error)}`)
  })
  return { spec, algorithm, privateKey, publicKey, publicJwk } satisfies KeyMaterial
})

/** Generates an extractable key pair. */
export const generate = Effect.fnUntraced(function*(spec: KeySpec) {
  const pair = yield* Effect.tryPromise({
    try: () =>
      globalThis.crypto.subtle.generateKey(
        spec.kty === "EC"
          ? { name: "ECDSA", namedCurve: spec.crv }
          : {
            name: "RSASSA-PKCS1-v1_5",
            modulusLength: spec.modulusLength,
            publicExponent: new Uint8Array([1, 0, 1]),
            hash: "SHA-256"
          },
        true,
        ["sign", "verify"]
      ),
    catch: (error) => new KeyError({ reason: "Generate", description: describe(error) })
  })
  const jwk = yield* Effect.tryPromise({
    try: () => globalThis.crypto.subtle.exportKey("jwk", pair.publicKey),
    catch: (error) => new KeyError({ reason: "Export", description: describe(error) })
  })
  const publicJwk = publicJwkOf(jwk)
  if (publicJwk === undefined) {
    return yield* new KeyError({ reason: "Generate", description: "the generated key has an unexpected JWK form" })
  }
  return {
    spec,
    algorithm: algorithmOf(spec),
    privateKey: pair.privateKey,
    publicKey: pair.publicKey,
    publicJwk
  } satisfies KeyMaterial
})

// ---------------------------------------------------------------------------------------------
// PEM
// ---------------------------------------------------------------------------------------------

const PRIVATE_KEY_BLOCKS: ReadonlySet<string> = new Set([
  "PRIVATE KEY",
  "EC PRIVATE KEY",
  "RSA PRIVATE KEY",
  "ENCRYPTED PRIVATE KEY"
])

const CONVERT_HINT = "convert it with `openssl pkcs8 -topk8 -nocrypt -in key.pem -out key-pkcs8.pem`"

/** Wraps a SEC1 `ECPrivateKey` (RFC 5915) in a PKCS#8 `PrivateKeyInfo` (RFC 5208). */
const sec1ToPkcs8 = (der: ArrayBuffer): Effect.Effect<ArrayBuffer, KeyError> =>
  Effect.flatMap(X509.load, ({ AlgorithmIdentifier, AsnConvert, ECParameters, ECPrivateKey, PrivateKey, PrivateKeyInfo }) =>
  Effect.try({
    try: () => AsnConvert.parse(der, ECPrivateKey),
    catch: (error) => importError(`not a valid EC PRIVATE KEY (${describe(error)})`)
  }).pipe(
    Effect.flatMap((ecPrivateKey) => {
      const curve = ecPrivateKey.parameters?.namedCurve
      if (curve === undefined) {
        return Effect.fail(importError(`the EC PRIVATE KEY does not name its curve; ${CONVERT_HINT}`))
      }
      return Effect.try({
        try: () =>
          AsnConvert.serialize(
            new PrivateKeyInfo({
              version: 0,
              privateKeyAlgorithm: new AlgorithmIdentifier({
                algorithm: id_ecPublicKey,
                parameters: AsnConvert.serialize(new ECParameters({ namedCurve: curve }))
              }),
              privateKey: new PrivateKey(der)
            })
          ),
        catch: (error) => importError(`cannot convert the EC PRIVATE KEY to PKCS#8 (${describe(error)}); ${CONVERT_HINT}`)
      })
    })
  ))

/** Wraps a PKCS#1 `RSAPrivateKey` (RFC 8017) in a PKCS#8 `PrivateKeyInfo`; WebCrypto validates it on import. */
const pkcs1ToPkcs8 = (der: ArrayBuffer): Effect.Effect<ArrayBuffer, KeyError> =>
  Effect.flatMap(X509.load, ({ AlgorithmIdentifier, AsnConvert, PrivateKey, PrivateKeyInfo }) =>
  Effect.try({
    try: () =>
      AsnConvert.serialize(
        new PrivateKeyInfo({
          version: 0,
          privateKeyAlgorithm: new AlgorithmIdentifier({ algorithm: RSA_ENCRYPTION, parameters: null }),
          privateKey: new PrivateKey(der)
        })
      ),
    catch: (error) => importError(`cannot convert the RSA PRIVATE KEY to PKCS#8 (${describe(error)}); ${CONVERT_HINT}`)
  }))

/** The PKCS#8 DER of the first private key in a PEM text (SEC1 and PKCS#1 keys are converted). */
const pkcs8FromPem = Effect.fnUntraced(function*(pem: string) {
  const { x509 } = yield* X509.load
  const blocks = yield* Effect.try({
    try: () => x509.PemConverter.decodeWithHeaders(pem),
    catch: (error) => importError(`not a PEM text (${describe(error)})`)
  })
  const block = blocks.find((candidate) => PRIVATE_KEY_BLOCKS.has(candidate.type))
  if (block === undefined) {
    const found = blocks.map((candidate) => candidate.type)
    return yield* importError(
      found.length === 0
        ? "no PEM block found (expected -----BEGIN PRIVATE KEY-----)"
        : `no private key among the PEM blocks (${found.join(", ")})`
    )
  }
  const encrypted = block.type === "ENCRYPTED PRIVATE KEY" ||
    block.headers.some((header) => header.key === "Proc-Type" && header.value.includes("ENCRYPTED"))
  if (encrypted) {
    return yield* importError(
      "the key is encrypted; decrypt it with `openssl pkcs8 -topk8 -nocrypt -in key.pem -out key-pkcs8.pem`"
    )
  }
  switch (block.type) {
    case "EC PRIVATE KEY":
      return yield* sec1ToPkcs8(block.rawData)
    case "RSA PRIVATE KEY":
      return yield* pkcs1ToPkcs8(block.rawData)
    default:
      return block.rawData
  }
})

/** Reads the algorithm of a PKCS#8 `PrivateKeyInfo` without importing it. */
const detectPkcs8 = Effect.fnUntraced(function*(der: ArrayBuffer) {
  const { AsnConvert, ECParameters, PrivateKeyInfo } = yield* X509.load
  const info = yield* Effect.try({
    try: () => AsnConvert.parse(der, PrivateKeyInfo),
    catch: (error) => importError(`not a PKCS#8 private key (${describe(error)})`)
  })
  const oid = info.privateKeyAlgorithm.algorithm
  if (oid === RSA_ENCRYPTION) return "RS256" as const
  if (oid !== id_ecPublicKey) return yield* unsupported(`key algorithm ${oidName(oid)}`)
  const parameters = info.privateKeyAlgorithm.parameters
  const curve = parameters
    ? yield* Effect.try({
      try: () => AsnConvert.parse(parameters, ECParameters).namedCurve,
      catch: (error) => importError(`unreadable EC parameters (${describe(error)})`)
    })
    : undefined
  if (curve === id_secp256r1) return "ES256" as const
  if (curve === id_secp384r1) return "ES384" as const
  return yield* unsupported(`EC key on curve ${curve === undefined ? "(unnamed)" : oidName(curve)}`)
})

/**
 * Imports a private key PEM: PKCS#8 `PRIVATE KEY`, SEC1 `EC PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`,
 * of type EC P-256, EC P-384 or RSA ≥ 2048 bits.
 */
export const fromPem = Effect.fnUntraced(function*(pem: string) {
  const der = yield* pkcs8FromPem(pem)
  const algorithm = yield* detectPkcs8(der)
  const privateKey = yield* Effect.tryPromise({
    try: () => globalThis.crypto.subtle.importKey("pkcs8", der, importParams(algorithm), true, ["sign"]),
    catch: (error) => importError(`the ${algorithm} private key does not import (${describe(error)})`)
  })
  return yield* complete(privateKey, algorithm)
})

/** PKCS#8 PEM with `\n` line ends and a trailing newline. */
export const toPem = (privateKey: CryptoKey): Effect.Effect<string, KeyError> =>
  Effect.tryPromise({
    try: () => jose.exportPKCS8(privateKey),
    catch: (error) => new KeyError({ reason: "Export", description: describe(error) })
  }).pipe(Effect.map((pem) => pem.endsWith("\n") ? pem : `${pem}\n`))

// ---------------------------------------------------------------------------------------------
// JWK
// ---------------------------------------------------------------------------------------------

const PrivateEcJwk = Schema.Struct({
  kty: Schema.Literal("EC"),
  crv: Schema.Literal("P-256", "P-384"),
  x: Schema.String,
  y: Schema.String,
  d: Schema.String
})

const PrivateRsaJwk = Schema.Struct({
  kty: Schema.Literal("RSA"),
  n: Schema.String,
  e: Schema.String,
  d: Schema.String,
  p: Schema.String,
  q: Schema.String,
  dp: Schema.String,
  dq: Schema.String,
  qi: Schema.String
})

const PrivateJwk = Schema.Union(PrivateEcJwk, PrivateRsaJwk)

/** Imports a private JWK (EC P-256, EC P-384 or RSA ≥ 2048 bits); a present `alg` must match. */
export const fromJwk = Effect.fnUntraced(function*(input: unknown) {
  if (!Predicate.hasProperty(input, "kty") || typeof input.kty !== "string") {
    return yield* importError("not a JWK: an object with a `kty` member is expected")
  }
  if (input.kty !== "EC" && input.kty !== "RSA") return yield* unsupported(`JWK key type ${input.kty}`)
  if (input.kty === "EC" && Predicate.hasProperty(input, "crv") && input.crv !== "P-256" && input.crv !== "P-384") {
    return yield* unsupported(`EC key on curve ${String(input.crv)}`)
  }
  if (!Predicate.hasProperty(input, "d")) return yield* importError("the JWK is a public key; a private key is needed")
  const jwk = yield* Schema.decodeUnknown(PrivateJwk)(input, { onExcessProperty: "ignore" }).pipe(
    Effect.mapError((error) => importError(`malformed ${String(input.kty)} private JWK: ${describeParseError(error)}`))
  )
  const algorithm = jwk.kty === "RSA" ? "RS256" : jwk.crv === "P-256" ? "ES256" : "ES384"
  if (Predicate.hasProperty(input, "alg") && input.alg !== undefined && input.alg !== algorithm) {
    return yield* unsupported(`the JWK says alg ${String(input.alg)}, but this ${jwk.kty} key can only sign ${algorithm}`)
  }
  const privateKey = yield* Effect.tryPromise({
    try: () => globalThis.crypto.subtle.importKey("jwk", { ...jwk }, importParams(algorithm), true, ["sign"]),
    catch: (error) => importError(`the ${algorithm} private JWK does not import (${describe(error)})`)
  })
  return yield* complete(privateKey, algorithm)
})

/** The private JWK with its `alg`, without WebCrypto's `ext`/`key_ops`. */
export const toJwk = (privateKey: CryptoKey, algorithm: JwsAlgorithm): Effect.Effect<jose.JWK, KeyError> =>
  Effect.tryPromise({
    try: () => jose.exportJWK(privateKey),
    catch: (error) => new KeyError({ reason: "Export", description: describe(error) })
  }).pipe(Effect.map((jwk) => ({ ...jwk, alg: algorithm })))
