/**
 * Pebble's HTTPS certificate: a throw-away CA and a leaf for `localhost` / `127.0.0.1` signed by it.
 * Pebble serves the leaf on both its ACME and its management listener; clients trust the CA.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { PebbleError } from "../PebbleError.js"
import { x509 } from "./x509.js"

/** @internal */
export interface TlsMaterial {
  /** PEM of the CA: what a client must trust */
  readonly caPem: string
  /** PEM chain for Pebble's `certificate`: the leaf, then the CA */
  readonly certificatePem: string
  /** PKCS#8 PEM of the leaf's private key for Pebble's `privateKey` */
  readonly privateKeyPem: string
}

const algorithm = { name: "ECDSA", namedCurve: "P-256" }
const signingAlgorithm = { name: "ECDSA", hash: "SHA-256" }
const hour = 60 * 60 * 1000
const day = 24 * hour

const randomSerial = (): string => {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16))
  // a positive INTEGER: clear the top bit
  bytes[0] = (bytes[0] ?? 0) & 0x7f
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")
}

const generate = async (now: number): Promise<TlsMaterial> => {
  const notBefore = new Date(now - hour)
  const notAfter = new Date(now + 30 * day)
  const caKeys = await globalThis.crypto.subtle.generateKey(algorithm, true, ["sign", "verify"])
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: "CN=@acme/testing Pebble TLS CA",
    notBefore,
    notAfter,
    keys: caKeys,
    signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey)
    ]
  })
  const leafKeys = await globalThis.crypto.subtle.generateKey(algorithm, true, ["sign", "verify"])
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: "CN=localhost",
    issuer: ca.subject,
    notBefore,
    notAfter,
    publicKey: leafKeys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: "dns", value: "localhost" }, { type: "ip", value: "127.0.0.1" }]),
      await x509.SubjectKeyIdentifierExtension.create(leafKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey)
    ]
  })
  const pkcs8 = await globalThis.crypto.subtle.exportKey("pkcs8", leafKeys.privateKey)
  const caPem = ca.toString("pem")
  return {
    caPem: `${caPem}\n`,
    certificatePem: `${leaf.toString("pem")}\n${caPem}\n`,
    privateKeyPem: `${x509.PemConverter.encode(pkcs8, "PRIVATE KEY")}\n`
  }
}

/** @internal */
export const generateTlsMaterial: Effect.Effect<TlsMaterial, PebbleError> = Effect.flatMap(
  Clock.currentTimeMillis,
  (now) =>
    Effect.tryPromise({
      try: () => generate(now),
      catch: (cause) =>
        new PebbleError({
          reason: "StartFailed",
          message: `could not generate Pebble's TLS certificate: ${cause instanceof Error ? cause.message : String(cause)}`
        })
    })
)
