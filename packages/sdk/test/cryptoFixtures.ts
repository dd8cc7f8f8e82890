/** Keys written by node:crypto (OpenSSL), an implementation independent of the SDK's, and test helpers. */
import { Effect } from "effect"
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto"
import { inspect } from "node:util"

const ec = (namedCurve: string): KeyObject => generateKeyPairSync("ec", { namedCurve }).privateKey
const rsa = (modulusLength: number): KeyObject => generateKeyPairSync("rsa", { modulusLength }).privateKey

export const pkcs8 = (key: KeyObject): string => key.export({ type: "pkcs8", format: "pem" }).toString()

export const fixtures = {
  p256: ec("P-256"),
  p384: ec("P-384"),
  p521: ec("P-521"),
  secp256k1: ec("secp256k1"),
  rsa1024: rsa(1024),
  rsa2048: rsa(2048),
  rsa2560: rsa(2560),
  ed25519: generateKeyPairSync("ed25519").privateKey
}

/** RFC 7638 thumbprint computed by hand from OpenSSL's view of the public key. */
export const nodeThumbprint = (privateKeyPem: string): string => {
  const jwk = createPublicKey(privateKeyPem).export({ format: "jwk" })
  const members = jwk.kty === "EC"
    ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
    : { e: jwk.e, kty: jwk.kty, n: jwk.n }
  return createHash("sha256").update(JSON.stringify(members)).digest("base64url")
}

/** Every way a key may end up printed. */
export const renderings = (key: object): ReadonlyArray<string> => [
  String(key),
  `${key}`,
  JSON.stringify(key),
  JSON.stringify({ nested: [key] }),
  inspect(key),
  inspect({ nested: [key] }, { depth: 10 }),
  inspect(key, { showHidden: true, depth: 10 })
]

/** Pieces of secret material that must never appear in a rendering. */
export const secrets = (pem: string, jwk: Record<string, unknown>): ReadonlyArray<string> => {
  const body = pem.split("\n").filter((line) => line.length > 0 && !line.startsWith("-----"))
  const privateMembers = ["d", "p", "q", "dp", "dq", "qi"]
    .map((member) => jwk[member])
    .filter((value): value is string => typeof value === "string")
  // 16-character windows of every body line: catches a partial dump too
  const windows = body.flatMap((line) => Array.from({ length: Math.max(1, line.length - 15) }, (_, i) => line.slice(i, i + 16)))
  return [...body, ...windows, ...privateMembers, ...privateMembers.map((value) => value.slice(0, 16))]
}

/**
 * The error of an effect that must fail. Unlike a bare `Effect.flip`, an unexpected success fails
 * the test with a short message (a flipped success can be a large object that the reporter
 * chokes on).
 */
export const failure = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<E, never, R> =>
  Effect.flip(Effect.flatMap(effect, () => Effect.dieMessage("expected a failure, but the effect succeeded")))
