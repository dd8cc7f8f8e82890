/**
 * A simulated CA for the one-year planning simulations: an `AcmeProtocol` service, in memory, that
 * issues real X.509 certificates (for the CSR's key and names, with an Authority Key Identifier so
 * that ARI CertIDs work) whose validity starts at the simulated clock's now, and answers
 * renewalInfo with a window the test chooses.
 *
 * Protocol behaviour is tested against Pebble. Pebble cannot be run through a simulated year
 * (it takes its time from the real clock and issues for fixed validity periods), so the planning
 * simulations run the real pipeline (`Renewal.renew`: scan, plan, every stage, storage) on this CA
 * and the TestClock instead. Authorizations are valid from the start: challenges are not what these
 * tests are about.
 */
import "reflect-metadata"
import { AcmeProtocol, Certificate, Nonce } from "@acme/sdk"
import * as x509 from "@peculiar/x509"
import { Clock, DateTime, Duration, Effect, Layer, Ref, Schema } from "effect"

x509.cryptoProvider.set(globalThis.crypto)

const BASE = "https://ca.simulated"
const DIRECTORY = `${BASE}/directory`
const nonce = Schema.decodeSync(Nonce.Nonce)("c2ltdWxhdGVk")

/** a renewalInfo window, in milliseconds since the epoch */
export interface Window {
  readonly start: number
  readonly end: number
}

export interface Options {
  /** the validity of each certificate (notAfter - notBefore) */
  readonly lifetime: Duration.DurationInput
  /** how far notBefore lies before the issuance (Let's Encrypt backdates by an hour) */
  readonly backdate?: Duration.DurationInput | undefined
  /**
   * the renewalInfo window for a certificate, or none: no `renewalInfo` in the directory (no ARI).
   * `issuedAt` is when this CA issued it.
   */
  readonly window?:
    | ((certificate: { readonly notBefore: number; readonly notAfter: number; readonly issuedAt: number }) => Window)
    | undefined
  /** the Retry-After of renewalInfo answers */
  readonly retryAfter?: Duration.DurationInput | undefined
}

/** What the CA saw, for the test's assertions. */
export interface Log {
  /** each newOrder: when, and the CertID it named as replaced */
  readonly orders: ReadonlyArray<{ readonly at: number; readonly replaces: string | undefined }>
  /** when renewalInfo was asked for */
  readonly renewalInfo: ReadonlyArray<number>
}

interface Issued {
  readonly pem: string
  readonly notBefore: number
  readonly notAfter: number
  readonly issuedAt: number
}

const notSimulated = (operation: string) => Effect.dieMessage(`the simulated CA does not do ${operation}`)

export const make = (options: Options) =>
  Effect.gen(function*() {
    const log = yield* Ref.make<Log>({ orders: [], renewalInfo: [] })
    const signingAlgorithm = { name: "ECDSA", hash: "SHA-256" }
    const caKeys = yield* Effect.promise(() =>
      globalThis.crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])
    )
    const ca = yield* Effect.promise(() =>
      x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: "01",
        name: "CN=Simulated CA",
        notBefore: new Date(Date.UTC(2020, 0, 1)),
        notAfter: new Date(Date.UTC(2040, 0, 1)),
        keys: caKeys,
        signingAlgorithm,
        extensions: [new x509.BasicConstraintsExtension(true, 0, true)]
      })
    )
    // the same for every certificate: computed once (a digest of the CA's key)
    const authorityKeyIdentifier = yield* Effect.promise(() =>
      x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey)
    )
    const issued = new Map<string, Issued>()
    const bySerial = new Map<string, Issued>()
    const orders = new Map<string, { identifiers: ReadonlyArray<{ type: string; value: string }>; certificate?: string }>()
    let serial = 0x1000
    const lifetime = Duration.toMillis(options.lifetime)
    const backdate = Duration.toMillis(options.backdate ?? "1 hour")

    const directory = {
      newNonce: `${BASE}/nonce`,
      newAccount: `${BASE}/account`,
      newOrder: `${BASE}/order`,
      revokeCert: `${BASE}/revoke`,
      ...(options.window !== undefined ? { renewalInfo: `${BASE}/renewal-info` } : {})
    }
    const orderOf = (url: string, status: "ready" | "valid") => {
      const saved = orders.get(url)
      return {
        url,
        status,
        identifiers: saved?.identifiers ?? [],
        authorizations: [],
        finalize: `${url}/finalize`,
        certificate: status === "valid" ? saved?.certificate : undefined
      }
    }

    const service: AcmeProtocol.AcmeProtocol.Service = {
      directoryUrl: DIRECTORY,
      directory: Effect.succeed(directory),
      newNonce: () => Effect.succeed(nonce),
      newAccount: () =>
        Effect.succeed({
          value: {
            url: `${BASE}/account/1`,
            status: "valid" as const,
            contact: [],
            termsOfServiceAgreed: true,
            orders: undefined,
            created: true
          },
          nonce
        }),
      getAccount: () => notSimulated("getAccount"),
      updateAccount: () => notSimulated("updateAccount"),
      deactivateAccount: () => notSimulated("deactivateAccount"),
      changeKey: () => notSimulated("changeKey"),
      newOrder: ({ order }) =>
        Effect.gen(function*() {
          const at = yield* Clock.currentTimeMillis
          yield* Ref.update(log, (l) => ({ ...l, orders: [...l.orders, { at, replaces: order.replaces }] }))
          const url = `${BASE}/order/${orders.size + 1}`
          orders.set(url, { identifiers: order.identifiers })
          return { value: orderOf(url, "ready"), nonce }
        }),
      getOrder: ({ url }) => Effect.succeed({ value: orderOf(url, orders.get(url)?.certificate ? "valid" : "ready"), nonce }),
      getAuthorization: () => notSimulated("getAuthorization (orders are ready from the start)"),
      listOrders: () => notSimulated("listOrders"),
      respondToChallenge: () => notSimulated("respondToChallenge"),
      deactivateAuthorization: () => notSimulated("deactivateAuthorization"),
      pollAuthorization: () => notSimulated("pollAuthorization"),
      pollOrder: ({ url }) => Effect.succeed({ value: orderOf(url, "valid"), nonce }),
      finalize: ({ csr, order }) =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          const request = new x509.Pkcs10CertificateRequest(csr.der)
          const notBefore = now - backdate
          const notAfter = notBefore + lifetime
          serial += 1
          const certificate = yield* Effect.promise(async () =>
            x509.X509CertificateGenerator.create({
              serialNumber: serial.toString(16),
              subject: `CN=${csr.identifiers[0]?.value ?? "simulated"}`,
              issuer: ca.subject,
              notBefore: new Date(notBefore),
              notAfter: new Date(notAfter),
              publicKey: await request.publicKey.export(),
              signingKey: caKeys.privateKey,
              signingAlgorithm,
              extensions: [
                new x509.SubjectAlternativeNameExtension(csr.identifiers.map((id) => ({ type: "dns", value: id.value }))),
                authorityKeyIdentifier
              ]
            })
          )
          const url = `${BASE}/certificate/${serial.toString(16)}`
          const entry = { pem: `${certificate.toString("pem")}\n${ca.toString("pem")}\n`, notBefore, notAfter, issuedAt: now }
          issued.set(url, entry)
          bySerial.set(serial.toString(16), entry)
          const saved = orders.get(order.url)
          if (saved !== undefined) saved.certificate = url
          return { value: orderOf(order.url, "valid"), nonce }
        }),
      downloadCertificate: ({ url }) =>
        Effect.gen(function*() {
          const chain = yield* Effect.orDie(Certificate.parseChain(issued.get(url)?.pem ?? ""))
          return { value: { url, chain, alternates: [], preferredIssuerMatched: undefined }, nonce }
        }),
      revokeCertificate: () => notSimulated("revokeCertificate"),
      renewalInfo: ({ certificate }) =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          yield* Ref.update(log, (l) => ({ ...l, renewalInfo: [...l.renewalInfo, now] }))
          // asked by the stored CertID (scan) or by the certificate: the serial either way, as bySerial keys it
          const serialHex = "certId" in certificate
            ? Buffer.from(certificate.certId.split(".")[1] ?? "", "base64url").toString("hex")
            : certificate.serialNumber
          const found = bySerial.get(BigInt(`0x${serialHex === "" ? "0" : serialHex}`).toString(16))
          if (found === undefined || options.window === undefined) return yield* notSimulated("renewalInfo of an unknown certificate")
          const window = options.window(found)
          return {
            certId: "certId" in certificate ? certificate.certId : yield* Effect.orDie(Certificate.certId(certificate)),
            suggestedWindow: { start: DateTime.unsafeMake(window.start), end: DateTime.unsafeMake(window.end) },
            explanationURL: undefined,
            retryAfter: Duration.decode(options.retryAfter ?? "6 hours")
          }
        })
    }
    return { layer: Layer.succeed(AcmeProtocol.AcmeProtocol, service), log: Ref.get(log), directoryUrl: DIRECTORY }
  })
