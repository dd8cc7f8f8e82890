import "reflect-metadata"
import { describe, expect, it } from "@effect/vitest"
import { Certificate } from "@acme/sdk"
import * as x509 from "@peculiar/x509"
import { DateTime, Effect } from "effect"
import { X509Certificate } from "node:crypto"
import { failure } from "./cryptoFixtures.js"

x509.cryptoProvider.set(globalThis.crypto)

const signingAlgorithm = { name: "ECDSA", hash: "SHA-256" }
const notBefore = new Date("2025-01-01T00:00:00Z")
const notAfter = new Date("2025-04-01T12:34:56Z")

const keyPair = () =>
  Effect.promise(() => globalThis.crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]))

/** leaf (example.org) ← intermediate ("Test Intermediate") ← root ("Test Root", not in the chain). */
const makeChain = Effect.gen(function*() {
  const rootKeys = yield* keyPair()
  const intermediateKeys = yield* keyPair()
  const leafKeys = yield* keyPair()
  const intermediate = yield* Effect.promise(async () =>
    x509.X509CertificateGenerator.create({
      serialNumber: "0a0b0c",
      subject: "CN=Test Intermediate, O=Acme Test",
      issuer: "CN=Test Root, O=Acme Test",
      notBefore,
      notAfter: new Date("2030-01-01T00:00:00Z"),
      publicKey: intermediateKeys.publicKey,
      signingKey: rootKeys.privateKey,
      signingAlgorithm,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey)
      ]
    })
  )
  const leaf = yield* Effect.promise(async () =>
    x509.X509CertificateGenerator.create({
      serialNumber: "ff0102030405060708",
      subject: "CN=example.org",
      issuer: intermediate.subject,
      notBefore,
      notAfter,
      publicKey: leafKeys.publicKey,
      signingKey: intermediateKeys.privateKey,
      signingAlgorithm,
      extensions: [
        new x509.SubjectAlternativeNameExtension([
          { type: "dns", value: "example.org" },
          { type: "dns", value: "*.example.org" },
          { type: "ip", value: "192.0.2.1" },
          { type: "ip", value: "2001:db8:0:0:0:0:0:1" }
        ]),
        await x509.AuthorityKeyIdentifierExtension.create(intermediateKeys.publicKey)
      ]
    })
  )
  return { leaf: leaf.toString("pem"), intermediate: intermediate.toString("pem") }
})

/** Node (OpenSSL) prints serials as upper-case hex of whole bytes: the CA's bytes, a leading zero kept. */
const nodeSerial = (pem: string) => new X509Certificate(pem).serialNumber

describe("Certificate.parseChain", () => {
  it.effect("reads a leaf and its issuer, in order", () =>
    Effect.gen(function*() {
      const { intermediate, leaf } = yield* makeChain
      const text = `issued by the test CA\r\n${leaf.replace(/\n/g, "\r\n")}\r\n\r\n${intermediate}\n\n`
      const chain = yield* Certificate.parseChain(text)
      expect(chain.certificates).toHaveLength(2)
      const [first, second] = chain.certificates

      expect(first.serialNumber).toBe(nodeSerial(leaf))
      expect(first.serialNumber).toBe("FF0102030405060708")
      expect(second?.serialNumber).toBe(nodeSerial(intermediate))
      // 0a 0b 0c: the first byte's leading zero is kept, as openssl prints it
      expect(second?.serialNumber).toBe("0A0B0C")

      expect(DateTime.toEpochMillis(first.notAfter)).toBe(new Date(new X509Certificate(leaf).validTo).getTime())
      expect(DateTime.formatIso(first.notAfter)).toBe("2025-04-01T12:34:56.000Z")
      expect(DateTime.formatIso(first.notBefore)).toBe("2025-01-01T00:00:00.000Z")
      expect(first.identifiers).toEqual([
        { type: "dns", value: "example.org" },
        { type: "dns", value: "*.example.org" },
        { type: "ip", value: "192.0.2.1" },
        { type: "ip", value: "2001:db8::1" }
      ])
      expect(new X509Certificate(leaf).subjectAltName).toContain("IP Address:2001:DB8:0:0:0:0:0:1")
      expect(first.subject).toBe("CN=example.org")
      expect(first.subjectCommonName).toBe("example.org")
      expect(first.issuerCommonName).toBe("Test Intermediate")
      expect(second?.subjectCommonName).toBe("Test Intermediate")
      expect(second?.issuer).toContain("CN=Test Root")
      expect(first.der).toEqual(new Uint8Array(new X509Certificate(leaf).raw))

      expect(Certificate.leaf(chain)).toBe(first)
      expect(chain.pem).toBe(`${leaf}\n${intermediate}\n`)
      expect(Certificate.issuersPem(chain)).toBe(`${intermediate}\n`)
      expect(Certificate.topIssuerName(chain)).toBe("Test Root")
      expect(Certificate.splitPem(text)).toEqual([`${leaf}\n`, `${intermediate}\n`])
    }))

  it.effect.each(["", "no certificate here", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"])(
    "EmptyChain for %j",
    (text) =>
      Effect.gen(function*() {
        const error = yield* failure(Certificate.parseChain(text))
        expect(error._tag).toBe("CertificateError")
        expect(error.reason).toBe("EmptyChain")
      })
  )

  it.effect("Parse for a block that is not a certificate", () =>
    Effect.gen(function*() {
      const error = yield* failure(Certificate.parseChain("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
      expect(error.reason).toBe("Parse")
    }))
})

describe("Certificate.parse", () => {
  it.effect("PEM and DER give the same certificate", () =>
    Effect.gen(function*() {
      const { leaf } = yield* makeChain
      const fromPem = yield* Certificate.parse(leaf)
      const fromDer = yield* Certificate.parse(new Uint8Array(new X509Certificate(leaf).raw))
      expect(fromDer).toEqual(fromPem)
      expect(fromPem.pem).toBe(`${leaf}\n`)
    }))
})

const withAki = (serialNumber: string, keyIdentifier: string | undefined) =>
  Effect.gen(function*() {
    const keys = yield* keyPair()
    const certificate = yield* Effect.promise(() =>
      x509.X509CertificateGenerator.createSelfSigned({
        serialNumber,
        name: "CN=ARI test",
        notBefore,
        notAfter,
        keys,
        signingAlgorithm,
        extensions: keyIdentifier === undefined ? [] : [new x509.AuthorityKeyIdentifierExtension(keyIdentifier)]
      })
    )
    return yield* Certificate.parse(certificate.toString("pem"))
  })

describe("Certificate.certId", () => {
  it.effect("matches the RFC 9773 §4.1 example", () =>
    Effect.gen(function*() {
      const certificate = yield* withAki("0087654321", "69885B6B87464041E1B37B847BA0AE2CDE01C8D4")
      expect(certificate.serialNumber).toBe("87654321")
      expect(certificate.authorityKeyIdentifier).toEqual(new Uint8Array(Buffer.from("69885B6B87464041E1B37B847BA0AE2CDE01C8D4", "hex")))
      expect(yield* Certificate.certId(certificate)).toBe("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE")
    }))

  it.effect("a serial without the high bit has no leading zero byte", () =>
    Effect.gen(function*() {
      const certificate = yield* withAki("01020304", "69885B6B87464041E1B37B847BA0AE2CDE01C8D4")
      expect(yield* Certificate.certId(certificate)).toBe("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AQIDBA")
    }))

  it.effect("reads the serial's bytes from what the first parse kept, checked against the DER, without parsing again", () =>
    Effect.gen(function*() {
      const certificate = yield* withAki("0087654321", "69885B6B87464041E1B37B847BA0AE2CDE01C8D4")
      // only the first bytes left: enough for the serial's tag, length and bytes, not for a parse
      const head = { ...certificate, der: certificate.der.slice(0, 24) }
      expect(yield* Certificate.certId(head)).toBe("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE")
      // a serial that is not the one in the DER is read from the DER (and here cannot be)
      const other = { ...head, serialNumber: "12345678" }
      expect((yield* failure(Certificate.certId(other))).reason).toBe("Parse")
    }))

  it.effect("no authorityKeyIdentifier → MissingExtension", () =>
    Effect.gen(function*() {
      const certificate = yield* withAki("01", undefined)
      expect(certificate.authorityKeyIdentifier).toBeUndefined()
      const error = yield* failure(Certificate.certId(certificate))
      expect(error.reason).toBe("MissingExtension")
    }))
})

describe("Certificate.hasPublicKeyOf", () => {
  const csrOf = (keys: Effect.Effect.Success<ReturnType<typeof keyPair>>) =>
    Effect.promise(() =>
      x509.Pkcs10CertificateRequestGenerator.create({ name: "CN=example.org", keys, signingAlgorithm })
    ).pipe(Effect.map((request) => ({ der: new Uint8Array(request.rawData) })))

  it.effect("compares the key read when the certificate was parsed with the CSR's, without parsing it again", () =>
    Effect.gen(function*() {
      const leafKeys = yield* keyPair()
      const other = yield* keyPair()
      const certificate = yield* Certificate.parse(
        (yield* Effect.promise(() =>
          x509.X509CertificateGenerator.createSelfSigned({
            serialNumber: "01",
            name: "CN=example.org",
            notBefore,
            notAfter,
            keys: leafKeys,
            signingAlgorithm
          })
        )).toString("pem")
      )
      expect(certificate.publicKeyInfo).toBeInstanceOf(Uint8Array)
      expect(yield* Certificate.hasPublicKeyOf(certificate, yield* csrOf(leafKeys))).toBe(true)
      expect(yield* Certificate.hasPublicKeyOf(certificate, yield* csrOf(other))).toBe(false)
      // the DER is not read again: a record whose DER is gone still compares by the key it kept
      const kept = { ...certificate, der: new Uint8Array([0x30, 0x00]) }
      expect(yield* Certificate.hasPublicKeyOf(kept, yield* csrOf(leafKeys))).toBe(true)
      // a record built elsewhere, without it, is parsed as before
      const { publicKeyInfo: _, ...elsewhere } = certificate
      expect(yield* Certificate.hasPublicKeyOf(elsewhere, yield* csrOf(other))).toBe(false)
    }))
})
