import { describe, expect, it } from "@effect/vitest"
import { AccountKey, Jws } from "@acme/sdk"
import { Effect } from "effect"
import { createPrivateKey, createPublicKey } from "node:crypto"
import { inspect } from "node:util"
import { failure, fixtures, nodeThumbprint, pkcs8, renderings, secrets } from "./cryptoFixtures.js"

const algorithms = ["ES256", "ES384", "RS256"] as const

describe("AccountKey", () => {
  it.effect.each(algorithms)("%s: generate → toPem → fromPem keeps the thumbprint", (algorithm) =>
    Effect.gen(function*() {
      const key = yield* AccountKey.generate(algorithm)
      expect(key.algorithm).toBe(algorithm)
      const pem = yield* AccountKey.toPem(key)
      expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/)
      // OpenSSL reads the PEM and computes the same RFC 7638 thumbprint
      expect(nodeThumbprint(pem)).toBe(key.thumbprint)
      expect(yield* Jws.thumbprint(key.publicJwk)).toBe(key.thumbprint)
      const back = yield* AccountKey.fromPem(pem)
      expect(back.algorithm).toBe(algorithm)
      expect(back.thumbprint).toBe(key.thumbprint)
      expect(back.publicJwk).toEqual(key.publicJwk)
    }))

  it.effect.each(algorithms)("%s: fromJwk(toJwk(key)) keeps the thumbprint", (algorithm) =>
    Effect.gen(function*() {
      const key = yield* AccountKey.generate(algorithm)
      const jwk = yield* AccountKey.toJwk(key)
      expect(jwk.alg).toBe(algorithm)
      expect(typeof jwk.d).toBe("string")
      expect(jwk).not.toHaveProperty("key_ops")
      expect(jwk).not.toHaveProperty("ext")
      const back = yield* AccountKey.fromJwk(jwk)
      expect(back.thumbprint).toBe(key.thumbprint)
      expect(back.algorithm).toBe(algorithm)
      // the JWK is the same key OpenSSL sees
      expect(nodeThumbprint(createPrivateKey({ key: { ...jwk }, format: "jwk" }).export({ type: "pkcs8", format: "pem" }).toString()))
        .toBe(key.thumbprint)
    }))

  it.effect("RS256 keys are 2048 bits unless asked otherwise", () =>
    Effect.gen(function*() {
      const small = yield* AccountKey.generate("RS256")
      const large = yield* AccountKey.generate("RS256", { modulusLength: 3072 })
      const bits = (key: AccountKey.AccountKey) =>
        Effect.map(AccountKey.toPem(key), (pem) => createPublicKey(pem).asymmetricKeyDetails?.modulusLength)
      expect(yield* bits(small)).toBe(2048)
      expect(yield* bits(large)).toBe(3072)
    }))

  it.effect("the default algorithm is ES256", () =>
    Effect.gen(function*() {
      expect((yield* AccountKey.generate()).algorithm).toBe("ES256")
    }))

  it.effect.each([
    ["P-256 PKCS#8", (): string => pkcs8(fixtures.p256), "ES256"],
    ["P-384 PKCS#8", (): string => pkcs8(fixtures.p384), "ES384"],
    ["RSA 2048 PKCS#8", (): string => pkcs8(fixtures.rsa2048), "RS256"],
    ["RSA 2560 PKCS#8", (): string => pkcs8(fixtures.rsa2560), "RS256"],
    ["P-256 SEC1", (): string => fixtures.p256.export({ type: "sec1", format: "pem" }).toString(), "ES256"],
    ["P-384 SEC1", (): string => fixtures.p384.export({ type: "sec1", format: "pem" }).toString(), "ES384"],
    ["RSA PKCS#1", (): string => fixtures.rsa2048.export({ type: "pkcs1", format: "pem" }).toString(), "RS256"]
  ] as const)("imports a %s key written by OpenSSL", ([, pem, algorithm]) =>
    Effect.gen(function*() {
      const text = pem()
      const key = yield* AccountKey.fromPem(text)
      expect(key.algorithm).toBe(algorithm)
      expect(key.thumbprint).toBe(nodeThumbprint(text))
    }))

  it.effect("reads a SEC1 key preceded by EC PARAMETERS and with CRLF line ends (openssl ecparam -genkey)", () =>
    Effect.gen(function*() {
      const sec1 = fixtures.p256.export({ type: "sec1", format: "pem" }).toString()
      const text = `-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n${sec1}`.replace(/\n/g, "\r\n")
      const key = yield* AccountKey.fromPem(text)
      expect(key.thumbprint).toBe(nodeThumbprint(sec1))
    }))

  it.effect.each([
    ["garbage", (): string => "hello world", "Import"],
    ["a PEM with the wrong block", (): string => "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "Import"],
    ["a corrupt PKCS#8 body", (): string => "-----BEGIN PRIVATE KEY-----\nMIIBAAAAAAAA\n-----END PRIVATE KEY-----\n", "Import"],
    ["P-521", (): string => pkcs8(fixtures.p521), "UnsupportedAlgorithm"],
    ["P-521 SEC1", (): string => fixtures.p521.export({ type: "sec1", format: "pem" }).toString(), "UnsupportedAlgorithm"],
    ["secp256k1", (): string => pkcs8(fixtures.secp256k1), "UnsupportedAlgorithm"],
    ["Ed25519", (): string => pkcs8(fixtures.ed25519), "UnsupportedAlgorithm"],
    ["RSA 1024", (): string => pkcs8(fixtures.rsa1024), "UnsupportedAlgorithm"],
    [
      "an encrypted key",
      (): string => fixtures.p256.export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "secret" }).toString(),
      "Import"
    ]
  ] as const)("fromPem refuses %s with KeyError", ([, pem, reason]) =>
    Effect.gen(function*() {
      const error = yield* failure(AccountKey.fromPem(pem()))
      expect(error._tag).toBe("KeyError")
      expect(error.reason).toBe(reason)
      expect(error.message.length).toBeGreaterThan(10)
    }))

  it.effect("an encrypted key error says how to decrypt it", () =>
    Effect.gen(function*() {
      const pem = fixtures.p256.export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "x" })
      const error = yield* failure(AccountKey.fromPem(pem.toString()))
      expect(error.description).toContain("openssl pkcs8")
    }))

  it.effect.each([
    ["not an object", (): unknown => "nope", "Import"],
    ["a public JWK", (): unknown => createPublicKey(fixtures.p256).export({ format: "jwk" }), "Import"],
    ["an Ed25519 JWK", (): unknown => fixtures.ed25519.export({ format: "jwk" }), "UnsupportedAlgorithm"],
    ["a P-521 JWK", (): unknown => fixtures.p521.export({ format: "jwk" }), "UnsupportedAlgorithm"],
    ["a JWK without y", (): unknown => ({ ...fixtures.p256.export({ format: "jwk" }), y: undefined }), "Import"],
    ["an RS256 key labelled PS256", (): unknown => ({ ...fixtures.rsa2048.export({ format: "jwk" }), alg: "PS256" }), "UnsupportedAlgorithm"],
    ["an RSA 1024 JWK", (): unknown => fixtures.rsa1024.export({ format: "jwk" }), "UnsupportedAlgorithm"]
  ] as const)("fromJwk refuses %s", ([, jwk, reason]) =>
    Effect.gen(function*() {
      const error = yield* failure(AccountKey.fromJwk(jwk()))
      expect(error._tag).toBe("KeyError")
      expect(error.reason).toBe(reason)
    }))

  it.effect("fromJwk accepts a JWK written by OpenSSL", () =>
    Effect.gen(function*() {
      const key = yield* AccountKey.fromJwk({ ...fixtures.p384.export({ format: "jwk" }), alg: "ES384", use: "sig" })
      expect(key.algorithm).toBe("ES384")
      expect(key.thumbprint).toBe(nodeThumbprint(pkcs8(fixtures.p384)))
    }))

  it.effect.each(algorithms)("%s: printing never shows key material", (algorithm) =>
    Effect.gen(function*() {
      const key = yield* AccountKey.generate(algorithm)
      const pem = yield* AccountKey.toPem(key)
      const jwk = yield* AccountKey.toJwk(key)
      expect(String(key)).toBe(`AccountKey(${algorithm}, thumbprint=${key.thumbprint})`)
      expect(JSON.parse(JSON.stringify(key))).toEqual({ _id: "AccountKey", algorithm, thumbprint: key.thumbprint })
      expect(inspect(key)).toContain(`thumbprint: '${key.thumbprint}'`)
      expect(inspect({ nested: key })).not.toContain("privateKey")
      const secretParts = secrets(pem, jwk)
      expect(secretParts.length).toBeGreaterThan(3)
      for (const text of renderings(key)) {
        expect(text).toContain(key.thumbprint)
        for (const secret of secretParts) expect(text).not.toContain(secret)
      }
    }))
})
