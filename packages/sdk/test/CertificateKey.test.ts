import { describe, expect, it } from "@effect/vitest"
import { CertificateKey, Jws } from "@acme/sdk"
import { Effect, Schema } from "effect"
import * as jose from "jose"
import { createPublicKey } from "node:crypto"
import { inspect } from "node:util"
import { failure, fixtures, nodeThumbprint, pkcs8, renderings, secrets } from "./cryptoFixtures.js"

const expected = {
  "ec-p256": { algorithm: "ES256", details: { namedCurve: "prime256v1" } },
  "ec-p384": { algorithm: "ES384", details: { namedCurve: "secp384r1" } },
  "rsa-2048": { algorithm: "RS256", details: { modulusLength: 2048 } },
  "rsa-3072": { algorithm: "RS256", details: { modulusLength: 3072 } },
  "rsa-4096": { algorithm: "RS256", details: { modulusLength: 4096 } }
} as const

describe("CertificateKey", () => {
  it("KeyType is the schema of the five types", () => {
    expect(CertificateKey.KeyType.literals).toEqual(["ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096"])
    expect(Schema.is(CertificateKey.KeyType)("rsa-1024")).toBe(false)
  })

  it.effect.each(CertificateKey.KeyType.literals)("%s: generate → toPem → fromPem keeps type and key", (type) =>
    Effect.gen(function*() {
      const key = yield* CertificateKey.generate(type)
      expect(key.type).toBe(type)
      expect(key.algorithm).toBe(expected[type].algorithm)
      const pem = yield* CertificateKey.toPem(key)
      expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/)
      // OpenSSL agrees on what the key is
      expect(createPublicKey(pem).asymmetricKeyDetails).toMatchObject(expected[type].details)
      const back = yield* CertificateKey.fromPem(pem)
      expect(back.type).toBe(type)
      expect(back.publicJwk).toEqual(key.publicJwk)
      expect(yield* Jws.thumbprint(back.publicJwk)).toBe(nodeThumbprint(pem))
      // the public CryptoKey is the public half of the private one
      const jws = yield* Jws.sign({ key: back, url: "https://ca.example/revoke", payload: {} })
      yield* Effect.promise(() => jose.flattenedVerify({ ...jws }, key.publicKey))
    }))

  it.effect.each([
    ["P-256 SEC1", (): string => fixtures.p256.export({ type: "sec1", format: "pem" }).toString(), "ec-p256"],
    ["P-384 PKCS#8", (): string => pkcs8(fixtures.p384), "ec-p384"],
    ["RSA 2048 PKCS#1", (): string => fixtures.rsa2048.export({ type: "pkcs1", format: "pem" }).toString(), "rsa-2048"]
  ] as const)("detects the type of a %s key written by OpenSSL", ([, pem, type]) =>
    Effect.gen(function*() {
      const key = yield* CertificateKey.fromPem(pem())
      expect(key.type).toBe(type)
      expect(yield* Jws.thumbprint(key.publicJwk)).toBe(nodeThumbprint(pem()))
    }))

  it.effect.each([
    ["RSA 2560", (): string => pkcs8(fixtures.rsa2560), "UnsupportedAlgorithm"],
    ["RSA 1024", (): string => pkcs8(fixtures.rsa1024), "UnsupportedAlgorithm"],
    ["P-521", (): string => pkcs8(fixtures.p521), "UnsupportedAlgorithm"],
    ["Ed25519", (): string => pkcs8(fixtures.ed25519), "UnsupportedAlgorithm"],
    ["garbage", (): string => "-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n", "Import"]
  ] as const)("fromPem refuses %s", ([, pem, reason]) =>
    Effect.gen(function*() {
      const error = yield* failure(CertificateKey.fromPem(pem()))
      expect(error._tag).toBe("KeyError")
      expect(error.reason).toBe(reason)
    }))

  it.effect.each(["ec-p256", "rsa-2048"] as const)("%s: printing never shows key material", (type) =>
    Effect.gen(function*() {
      const key = yield* CertificateKey.generate(type)
      const pem = yield* CertificateKey.toPem(key)
      const jwk = yield* Effect.promise(() => jose.exportJWK(key.privateKey))
      expect(String(key)).toBe(`CertificateKey(${type}, ${expected[type].algorithm})`)
      expect(JSON.parse(JSON.stringify(key))).toEqual({ _id: "CertificateKey", type, algorithm: expected[type].algorithm })
      expect(inspect(key)).toContain(`type: '${type}'`)
      expect(inspect({ nested: key })).not.toContain("privateKey")
      const secretParts = secrets(pem, { ...jwk })
      expect(secretParts.length).toBeGreaterThan(3)
      for (const text of renderings(key)) {
        expect(text).toContain(type)
        for (const secret of secretParts) expect(text).not.toContain(secret)
      }
    }))
})
