import "reflect-metadata"
import { describe, expect, it } from "@effect/vitest"
import { ChallengeResponse, Identifier } from "@acme/sdk"
import * as x509 from "@peculiar/x509"
import { Effect, TestClock } from "effect"
import { createHash, createPrivateKey, X509Certificate } from "node:crypto"

x509.cryptoProvider.set(globalThis.crypto)

const token = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"
const thumbprint = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
const keyAuthorization = `${token}.${thumbprint}`

describe("ChallengeResponse", () => {
  it("keyAuthorization, http01Path, dns01RecordName", () => {
    expect(ChallengeResponse.keyAuthorization(token, { thumbprint })).toBe(keyAuthorization)
    expect(ChallengeResponse.http01Path(token)).toBe(`/.well-known/acme-challenge/${token}`)
    expect(ChallengeResponse.dns01RecordName(Identifier.dns("www.example.org"))).toBe("_acme-challenge.www.example.org")
    expect(ChallengeResponse.dns01RecordName(Identifier.dns("*.example.org"))).toBe("_acme-challenge.example.org")
  })

  it.effect("dns01TxtValue is base64url(SHA-256(key authorization))", () =>
    Effect.gen(function*() {
      const value = yield* ChallengeResponse.dns01TxtValue(keyAuthorization)
      expect(value).toBe(createHash("sha256").update(keyAuthorization).digest("base64url"))
      expect(value).toHaveLength(43)
    }))

  it.effect("dns-account-01: the draft's example label, and the record names of both draft revisions", () =>
    Effect.gen(function*() {
      // draft-ietf-acme-dns-account-label, §3 "Challenge Fulfillment": its example account and record
      const accountUrl = "https://example.com/acme/acct/ExampleAccount"
      expect(yield* ChallengeResponse.dnsAccountLabel(accountUrl)).toBe("ujmmovf2vn55tgye")
      // the same computation by hand: base32 (RFC 4648) of the first 10 bytes of SHA-256, lower case
      const digest = createHash("sha256").update(accountUrl).digest().subarray(0, 10)
      const bits = [...digest].map((byte) => byte.toString(2).padStart(8, "0")).join("")
      const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
      expect(bits.match(/.{5}/g)?.map((chunk) => alphabet[parseInt(chunk, 2)]).join("")).toBe("ujmmovf2vn55tgye")
      const other = yield* ChallengeResponse.dnsAccountLabel("https://ca.test/acme/acct/2")
      expect(other).toMatch(/^[a-z2-7]{16}$/)
      expect(other).not.toBe("ujmmovf2vn55tgye")

      const name = (identifier: Identifier.Identifier, extra: object = {}) =>
        ChallengeResponse.dnsAccount01RecordName({ identifier, accountUrl, ...extra })
      expect(yield* name(Identifier.dns("example.org"))).toBe("_ujmmovf2vn55tgye._acme-challenge.example.org")
      expect(yield* name(Identifier.dns("*.example.org"))).toBe("_ujmmovf2vn55tgye._acme-challenge.example.org")
      expect(yield* name(Identifier.dns("example.org"), { wildcard: true })).toBe(
        "_ujmmovf2vn55tgye._acme-challenge.example.org"
      )
      const scoped = { draft: "scoped-dns-challenges" }
      expect(yield* name(Identifier.dns("example.org"), scoped)).toBe("_ujmmovf2vn55tgye._acme-host-challenge.example.org")
      expect(yield* name(Identifier.dns("example.org"), { ...scoped, wildcard: true })).toBe(
        "_ujmmovf2vn55tgye._acme-wildcard-challenge.example.org"
      )
      expect(yield* name(Identifier.dns("*.example.org"), scoped)).toBe(
        "_ujmmovf2vn55tgye._acme-wildcard-challenge.example.org"
      )
    }))

  it.effect("tlsAlpn01ExtensionValue is the DER OCTET STRING of the digest", () =>
    Effect.gen(function*() {
      const value = yield* ChallengeResponse.tlsAlpn01ExtensionValue(keyAuthorization)
      expect(value).toHaveLength(34)
      expect([value[0], value[1]]).toEqual([0x04, 0x20])
      expect(Buffer.from(value.subarray(2))).toEqual(createHash("sha256").update(keyAuthorization).digest())
    }))

  it.effect.each([
    [Identifier.dns("example.org"), "DNS:example.org", { type: "dns", value: "example.org" }],
    [Identifier.ip("192.0.2.1"), "IP Address:192.0.2.1", { type: "ip", value: "192.0.2.1" }],
    [Identifier.ip("2001:db8::1"), "IP Address:2001:DB8:0:0:0:0:0:1", { type: "ip", value: "2001:db8::1" }]
  ] as const)("tls-alpn-01 certificate for %j", ([identifier, nodeSan, san]) =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2025-06-01T12:00:00Z"))
      const { certificatePem, privateKeyPem } = yield* ChallengeResponse.tlsAlpn01Certificate({
        identifier,
        keyAuthorization
      })
      const expectedValue = yield* ChallengeResponse.tlsAlpn01ExtensionValue(keyAuthorization)

      // OpenSSL's view
      const node = new X509Certificate(certificatePem)
      expect(node.subjectAltName).toBe(nodeSan)
      expect(node.checkPrivateKey(createPrivateKey(privateKeyPem))).toBe(true)
      expect(node.verify(node.publicKey)).toBe(true)
      expect(node.publicKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1")
      expect(new Date(node.validFrom).toISOString()).toBe("2025-06-01T11:00:00.000Z")
      expect(new Date(node.validTo).toISOString()).toBe("2025-06-08T12:00:00.000Z")

      // the acmeIdentifier extension, critical, with the digest
      const certificate = new x509.X509Certificate(certificatePem)
      const extension = certificate.getExtension(ChallengeResponse.TLS_ALPN_01_OID)
      expect(ChallengeResponse.TLS_ALPN_01_OID).toBe("1.3.6.1.5.5.7.1.31")
      expect(extension?.critical).toBe(true)
      expect(new Uint8Array(extension?.value ?? new ArrayBuffer(0))).toEqual(expectedValue)
      const sanExtension = certificate.getExtension(x509.SubjectAlternativeNameExtension)
      expect(sanExtension?.names.items.map((name) => ({ type: name.type, value: name.value }))).toEqual([san])
    }))

  it.effect("each tls-alpn-01 certificate has a fresh key", () =>
    Effect.gen(function*() {
      const a = yield* ChallengeResponse.tlsAlpn01Certificate({ identifier: Identifier.dns("example.org"), keyAuthorization })
      const b = yield* ChallengeResponse.tlsAlpn01Certificate({ identifier: Identifier.dns("example.org"), keyAuthorization })
      expect(a.privateKeyPem).not.toBe(b.privateKeyPem)
    }))
})
