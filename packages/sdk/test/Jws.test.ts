import { describe, expect, it } from "@effect/vitest"
import { AccountKey, CertificateKey, Jws } from "@acme/sdk"
import { Effect } from "effect"
import * as jose from "jose"
import { createHmac, createPublicKey, verify as nodeVerify } from "node:crypto"
import { failure } from "./cryptoFixtures.js"

const decodeJson = (segment: string): unknown => JSON.parse(new TextDecoder().decode(jose.base64url.decode(segment)))

const verifyWith = (jws: Jws.FlattenedJws, key: Jws.SigningKey) =>
  Effect.promise(async () => {
    const publicKey = await jose.importJWK({ ...key.publicJwk }, key.algorithm)
    return jose.flattenedVerify({ ...jws }, publicKey)
  })

/** An independent check with node:crypto (ECDSA signatures are r‖s, "ieee-p1363"). */
const nodeVerifies = (jws: Jws.FlattenedJws, key: Jws.SigningKey): boolean => {
  const publicKey = createPublicKey({ key: { ...key.publicJwk }, format: "jwk" })
  const data = Buffer.from(`${jws.protected}.${jws.payload}`)
  const signature = Buffer.from(jws.signature, "base64url")
  return key.algorithm === "RS256"
    ? nodeVerify("sha256", data, publicKey, signature)
    : nodeVerify(key.algorithm === "ES256" ? "sha256" : "sha384", data, { key: publicKey, dsaEncoding: "ieee-p1363" }, signature)
}

describe("Jws.thumbprint", () => {
  it.effect("matches the RFC 7638 §3.1 example", () =>
    Effect.gen(function*() {
      const thumbprint = yield* Jws.thumbprint({
        kty: "RSA",
        n: "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        e: "AQAB"
      })
      expect(thumbprint).toBe("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
    }))
})

describe("Jws.sign", () => {
  it.effect.each(["ES256", "ES384", "RS256"] as const)("%s: kid mode, jwk mode and POST-as-GET verify", (algorithm) =>
    Effect.gen(function*() {
      const key = yield* AccountKey.generate(algorithm)
      const url = "https://ca.example/acme/new-order"
      const payload = { identifiers: [{ type: "dns", value: "example.org" }] }

      const withKid = yield* Jws.sign({ key, url, nonce: "nonce-1", kid: "https://ca.example/acct/1", payload })
      const verified = yield* verifyWith(withKid, key)
      expect(verified.protectedHeader).toEqual({ alg: algorithm, nonce: "nonce-1", url, kid: "https://ca.example/acct/1" })
      expect(Object.keys(decodeJson(withKid.protected) as object)).toEqual(["alg", "nonce", "url", "kid"])
      expect(JSON.parse(new TextDecoder().decode(verified.payload))).toEqual(payload)
      expect(nodeVerifies(withKid, key)).toBe(true)

      const withJwk = yield* Jws.sign({ key, url, nonce: "nonce-2", payload: { termsOfServiceAgreed: true } })
      expect((yield* verifyWith(withJwk, key)).protectedHeader).toEqual({
        alg: algorithm,
        nonce: "nonce-2",
        url,
        jwk: key.publicJwk
      })
      expect(decodeJson(withJwk.protected)).not.toHaveProperty("kid")
      expect(nodeVerifies(withJwk, key)).toBe(true)

      const postAsGet = yield* Jws.sign({ key, url, nonce: "nonce-3", kid: "https://ca.example/acct/1", payload: undefined })
      expect(postAsGet.payload).toBe("")
      expect((yield* verifyWith(postAsGet, key)).payload).toEqual(new Uint8Array(0))
      expect(nodeVerifies(postAsGet, key)).toBe(true)

      const noNonce = yield* Jws.sign({ key, url, payload: {} })
      expect(decodeJson(noNonce.protected)).toEqual({ alg: algorithm, url, jwk: key.publicJwk })
    }))

  it.effect("a signature does not verify with another key or a changed payload", () =>
    Effect.gen(function*() {
      const key = yield* AccountKey.generate("ES256")
      const other = yield* AccountKey.generate("ES256")
      const jws = yield* Jws.sign({ key, url: "https://ca.example/x", nonce: "n", payload: { a: 1 } })
      expect(nodeVerifies(jws, other)).toBe(false)
      expect(nodeVerifies({ ...jws, payload: jose.base64url.encode(JSON.stringify({ a: 2 })) }, key)).toBe(false)
    }))

  it.effect("a certificate key signs too (revocation by the certificate key)", () =>
    Effect.gen(function*() {
      const key = yield* CertificateKey.generate("ec-p384")
      const jws = yield* Jws.sign({ key, url: "https://ca.example/revoke", nonce: "n", payload: { certificate: "AAAA" } })
      expect((yield* verifyWith(jws, key)).protectedHeader).toMatchObject({ alg: "ES384", jwk: key.publicJwk })
    }))
})

describe("Jws.externalAccountBinding", () => {
  const hmacKey = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W" // as ZeroSSL-style CAs hand it out

  it.effect("HS256 over the account's public JWK with { alg, kid, url }", () =>
    Effect.gen(function*() {
      const accountKey = yield* AccountKey.generate("ES256")
      const url = "https://ca.example/acme/new-account"
      const eab = yield* Jws.externalAccountBinding({ accountKey, keyId: "kid-123", hmacKey, url })
      const verified = yield* Effect.promise(() => jose.flattenedVerify({ ...eab }, jose.base64url.decode(hmacKey)))
      expect(verified.protectedHeader).toEqual({ alg: "HS256", kid: "kid-123", url })
      expect(JSON.parse(new TextDecoder().decode(verified.payload))).toEqual(accountKey.publicJwk)
      const expected = createHmac("sha256", Buffer.from(hmacKey, "base64url"))
        .update(`${eab.protected}.${eab.payload}`)
        .digest("base64url")
      expect(eab.signature).toBe(expected)
    }))

  it.effect.each(["not+base64/url", "abc$def", "abcd efgh", "", "   "])("refuses hmacKey %j with KeyError Import", (bad) =>
    Effect.gen(function*() {
      const accountKey = yield* AccountKey.generate("ES256")
      const error = yield* failure(
        Jws.externalAccountBinding({ accountKey, keyId: "kid", hmacKey: bad, url: "https://ca.example/new-account" })
      )
      expect(error._tag).toBe("KeyError")
      expect(error.reason).toBe("Import")
      expect(error.description).toContain("base64url")
    }))
})

describe("Jws.keyChangeInner", () => {
  it.effect.each([["ES256", "ES256"], ["ES384", "RS256"]] as const)(
    "%s → %s: signed by the new key over { account, oldKey }",
    ([oldAlgorithm, newAlgorithm]) =>
      Effect.gen(function*() {
        const oldKey = yield* AccountKey.generate(oldAlgorithm)
        const newKey = yield* AccountKey.generate(newAlgorithm)
        const url = "https://ca.example/acme/key-change"
        const account = "https://ca.example/acme/acct/7"
        const inner = yield* Jws.keyChangeInner({ oldKey, newKey, account, url })
        const verified = yield* verifyWith(inner, newKey)
        expect(verified.protectedHeader).toEqual({ alg: newAlgorithm, jwk: newKey.publicJwk, url })
        expect(JSON.parse(new TextDecoder().decode(verified.payload))).toEqual({ account, oldKey: oldKey.publicJwk })
        expect(nodeVerifies(inner, newKey)).toBe(true)
        if (oldAlgorithm === newAlgorithm) expect(nodeVerifies(inner, oldKey)).toBe(false)
      })
  )
})
