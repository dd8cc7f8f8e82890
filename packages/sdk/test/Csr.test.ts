import "reflect-metadata"
import { describe, expect, it } from "@effect/vitest"
import { CertificateKey, Csr, Identifier } from "@acme/sdk"
import * as x509 from "@peculiar/x509"
import { Effect } from "effect"
import { failure } from "./cryptoFixtures.js"

x509.cryptoProvider.set(globalThis.crypto)

const identifiers = [
  Identifier.dns("example.org"),
  Identifier.dns("*.example.org"),
  Identifier.ip("192.0.2.1"),
  Identifier.ip("2001:db8::1")
]

const sansOf = (request: x509.Pkcs10CertificateRequest) => {
  const extension = request.getExtension("2.5.29.17")
  expect(extension).not.toBeNull()
  const san = new x509.SubjectAlternativeNameExtension(extension?.rawData ?? new ArrayBuffer(0))
  return { critical: san.critical, names: san.names.items.map((name) => ({ type: name.type, value: name.value })) }
}

describe("Csr.create", () => {
  it.effect.each([
    ["ec-p256", "ECDSA", "SHA-256"],
    ["ec-p384", "ECDSA", "SHA-384"],
    ["rsa-2048", "RSASSA-PKCS1-v1_5", "SHA-256"]
  ] as const)("%s: every identifier is a SAN, CN is the first DNS name, the signature verifies", ([type, name, hash]) =>
    Effect.gen(function*() {
      const key = yield* CertificateKey.generate(type)
      const csr = yield* Csr.create({ key, identifiers })
      expect(csr.identifiers).toEqual(identifiers)
      expect(csr.pem).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----\n[\s\S]+\n-----END CERTIFICATE REQUEST-----\n$/)

      const request = new x509.Pkcs10CertificateRequest(csr.pem)
      expect(yield* Effect.promise(() => request.verify())).toBe(true)
      expect(new Uint8Array(request.rawData)).toEqual(csr.der)
      expect(request.signatureAlgorithm).toMatchObject({ name, hash: { name: hash } })
      expect(request.subject).toBe("CN=example.org")
      expect(sansOf(request)).toEqual({
        critical: false,
        names: [
          { type: "dns", value: "example.org" },
          { type: "dns", value: "*.example.org" },
          { type: "ip", value: "192.0.2.1" },
          { type: "ip", value: "2001:db8::1" }
        ]
      })
      // the CSR binds the certificate key
      const spki = yield* Effect.promise(() => globalThis.crypto.subtle.exportKey("spki", key.publicKey))
      expect(new Uint8Array(request.publicKey.rawData)).toEqual(new Uint8Array(spki))
      expect(Csr.toBase64Url(csr)).toBe(Buffer.from(csr.der).toString("base64url"))
    }))

  it.effect("a first DNS name over 64 characters leaves the subject empty and the SAN critical", () =>
    Effect.gen(function*() {
      const long = `${"a".repeat(60)}.example.org`
      const key = yield* CertificateKey.generate("ec-p256")
      const csr = yield* Csr.create({ key, identifiers: [Identifier.dns(long), Identifier.dns("short.example.org")] })
      const request = new x509.Pkcs10CertificateRequest(csr.pem)
      expect(request.subject).toBe("")
      expect(sansOf(request)).toEqual({
        critical: true,
        names: [{ type: "dns", value: long }, { type: "dns", value: "short.example.org" }]
      })
    }))

  it.effect("a first DNS name of exactly 64 characters is the CN", () =>
    Effect.gen(function*() {
      const name64 = `${"b".repeat(52)}.example.org`
      expect(name64).toHaveLength(64)
      const key = yield* CertificateKey.generate("ec-p256")
      const csr = yield* Csr.create({ key, identifiers: [Identifier.ip("192.0.2.1"), Identifier.dns(name64)] })
      const request = new x509.Pkcs10CertificateRequest(csr.pem)
      expect(request.subject).toBe(`CN=${name64}`)
      expect(sansOf(request).critical).toBe(false)
      const longer = yield* Csr.create({ key, identifiers: [Identifier.dns(`b${name64}`)] })
      expect(new x509.Pkcs10CertificateRequest(longer.pem).subject).toBe("")
    }))

  it.effect("a wildcard first name is the CN as it is", () =>
    Effect.gen(function*() {
      const key = yield* CertificateKey.generate("ec-p256")
      const csr = yield* Csr.create({ key, identifiers: [Identifier.dns("*.example.org"), Identifier.dns("example.org")] })
      const request = new x509.Pkcs10CertificateRequest(csr.pem)
      expect(request.subjectName.getField("CN")).toEqual(["*.example.org"])
      expect((yield* Csr.fromPem(csr.pem)).identifiers).toEqual(csr.identifiers)
    }))

  it.effect("only IP identifiers: empty subject", () =>
    Effect.gen(function*() {
      const key = yield* CertificateKey.generate("ec-p256")
      const csr = yield* Csr.create({ key, identifiers: [Identifier.ip("192.0.2.7")] })
      expect(new x509.Pkcs10CertificateRequest(csr.pem).subject).toBe("")
    }))

  it.effect("no identifiers → NoIdentifiers", () =>
    Effect.gen(function*() {
      const key = yield* CertificateKey.generate("ec-p256")
      const error = yield* failure(Csr.create({ key, identifiers: [] }))
      expect(error._tag).toBe("CsrError")
      expect(error.reason).toBe("NoIdentifiers")
    }))

  it.effect("an identifier type that cannot be in a certificate → Create", () =>
    Effect.gen(function*() {
      const key = yield* CertificateKey.generate("ec-p256")
      const error = yield* failure(Csr.create({ key, identifiers: [{ type: "email", value: "a@example.org" }] }))
      expect(error.reason).toBe("Create")
    }))
})

describe("Csr.fromPem", () => {
  it.effect("recovers the identifiers of a CSR built by create", () =>
    Effect.gen(function*() {
      const key = yield* CertificateKey.generate("rsa-2048")
      const csr = yield* Csr.create({ key, identifiers })
      const read = yield* Csr.fromPem(csr.pem.replace(/\n/g, "\r\n"))
      expect(read.identifiers).toEqual(identifiers)
      expect(read.der).toEqual(csr.der)
      expect(read.pem).toBe(csr.pem)
    }))

  const external = (options: { readonly name?: string; readonly sans?: x509.JsonGeneralNames }) =>
    Effect.gen(function*() {
      const key = yield* CertificateKey.generate("ec-p256")
      const request = yield* Effect.promise(() =>
        x509.Pkcs10CertificateRequestGenerator.create({
          ...(options.name === undefined ? {} : { name: options.name }),
          keys: { privateKey: key.privateKey, publicKey: key.publicKey },
          signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
          extensions: options.sans === undefined ? [] : [new x509.SubjectAlternativeNameExtension(options.sans)]
        })
      )
      return request.toString("pem")
    })

  it.effect("adds a CN that is not among the SANs, normalises names and drops duplicates", () =>
    Effect.gen(function*() {
      const pem = yield* external({
        name: "CN=Www.Example.ORG",
        sans: [{ type: "dns", value: "Example.org" }, { type: "dns", value: "example.org" }, { type: "ip", value: "2001:db8:0:0::1" }]
      })
      const csr = yield* Csr.fromPem(pem)
      expect(csr.identifiers).toEqual([
        Identifier.dns("example.org"),
        Identifier.ip("2001:db8::1"),
        Identifier.dns("www.example.org")
      ])
    }))

  it.effect("a CN already among the SANs is not repeated", () =>
    Effect.gen(function*() {
      const pem = yield* external({ name: "CN=example.org", sans: [{ type: "dns", value: "example.org" }] })
      expect((yield* Csr.fromPem(pem)).identifiers).toEqual([Identifier.dns("example.org")])
    }))

  it.effect("a CSR naming nothing → NoIdentifiers", () =>
    Effect.gen(function*() {
      const pem = yield* external({ name: "O=Nobody" })
      const error = yield* failure(Csr.fromPem(pem))
      expect(error.reason).toBe("NoIdentifiers")
    }))

  it.effect("an e-mail SAN → Parse", () =>
    Effect.gen(function*() {
      const pem = yield* external({ sans: [{ type: "email", value: "a@example.org" }] })
      const error = yield* failure(Csr.fromPem(pem))
      expect(error.reason).toBe("Parse")
    }))

  it.effect("a CSR whose signature does not verify → Parse", () =>
    Effect.gen(function*() {
      const key = yield* CertificateKey.generate("ec-p256")
      const csr = yield* Csr.create({ key, identifiers: [Identifier.dns("example.org")] })
      const tampered = new Uint8Array(csr.der)
      // flip a bit inside the subject's CN ("example.org" → "dxample.org"): still DER, wrong signature
      const at = Buffer.from(tampered).indexOf(Buffer.from("example.org"))
      expect(at).toBeGreaterThan(0)
      tampered[at] = (tampered[at] ?? 0) ^ 0x01
      const error = yield* failure(Csr.fromPem(x509.PemConverter.encode(tampered, "CERTIFICATE REQUEST")))
      expect(error._tag).toBe("CsrError")
      expect(error.reason).toBe("Parse")
      expect(error.description).toContain("signature")
    }))

  it.effect("garbage → Parse", () =>
    Effect.gen(function*() {
      const error = yield* failure(Csr.fromPem("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----"))
      expect(error.reason).toBe("Parse")
    }))
})
