import { X509Certificate } from "node:crypto"
import { Pebble } from "@acme/testing"
import { AcmeProtocol, Authorization, Certificate, CertificateKey, Csr, type Identifier } from "@acme/sdk"
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { authorize, issue, newAccount, pebbleProtocol, requests } from "./support/acme.js"

const dns = (value: string): Identifier.Identifier => ({ type: "dns", value })
const ip = (value: string): Identifier.Identifier => ({ type: "ip", value })

const sanOf = (pem: string): ReadonlyArray<string> =>
  (new X509Certificate(pem).subjectAltName ?? "").split(", ").sort()

layer(pebbleProtocol(), { excludeTestServices: true })("AcmeProtocol orders against Pebble", (it) => {
  describe("issuance with each challenge type", () => {
    it.effect.each([
      ["http-01", "ec-p256"],
      ["dns-01", "ec-p384"],
      ["tls-alpn-01", "rsa-2048"]
    ] as const)("%s with a %s key: the CA issues a certificate for the name", ([challenge, keyType]) =>
      Effect.gen(function*() {
        const pebble = yield* Pebble.Pebble
        const session = yield* newAccount()
        const name = `${challenge}.${keyType}.example.test`
        const issued = yield* issue(session, { identifiers: [dns(name)], challenge, keyType })

        expect(issued.order.status).toBe("valid")
        expect(issued.leaf.identifiers).toEqual([dns(name)])
        expect(sanOf(issued.leaf.pem)).toEqual([`DNS:${name}`])
        // what the CA holds: the certificate with this serial, valid
        const status = yield* pebble.certificateStatus(issued.leaf.serialNumber)
        expect(status.status).toBe("Valid")
        expect(new X509Certificate(status.certificate).fingerprint256).toBe(
          new X509Certificate(issued.leaf.pem).fingerprint256
        )
      }))
  })

  it.effect("orders several names and an IP address (RFC 8738) in one certificate", () =>
    Effect.gen(function*() {
      const session = yield* newAccount()
      const identifiers = [dns("multi-a.example.test"), dns("multi-b.example.test"), ip("127.0.0.1")]
      const issued = yield* issue(session, { identifiers })
      expect(issued.order.identifiers).toHaveLength(3)
      expect(sanOf(issued.leaf.pem)).toEqual([
        "DNS:multi-a.example.test",
        "DNS:multi-b.example.test",
        "IP Address:127.0.0.1"
      ])
      expect(issued.order.authorizations).toHaveLength(3)
    }))

  it.effect("orders a wildcard name through dns-01", () =>
    Effect.gen(function*() {
      const session = yield* newAccount()
      const identifiers = [dns("*.wild.example.test"), dns("wild.example.test")]
      const issued = yield* issue(session, { identifiers, challenge: "dns-01" })
      expect(sanOf(issued.leaf.pem)).toEqual(["DNS:*.wild.example.test", "DNS:wild.example.test"])
    }))

  it.effect.each(["ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096"] as const)(
    "finalizes with a %s certificate key built into the CSR",
    (keyType) =>
      Effect.gen(function*() {
        const session = yield* newAccount()
        const issued = yield* issue(session, { identifiers: [dns(`${keyType}.keys.example.test`)], keyType })
        const details = new X509Certificate(issued.leaf.pem).publicKey.asymmetricKeyDetails
        if (keyType.startsWith("ec")) {
          expect(details?.namedCurve).toBe(keyType === "ec-p256" ? "prime256v1" : "secp384r1")
        } else {
          expect(details?.modulusLength).toBe(Number(keyType.slice(4)))
        }
        // the certificate is for the key the CSR carried
        const certKey = new X509Certificate(issued.leaf.pem).publicKey.export({ format: "jwk" })
        expect(certKey.x ?? certKey.n).toBe(
          issued.key.publicJwk.kty === "EC" ? issued.key.publicJwk.x : issued.key.publicJwk.n
        )
      }),
    120_000
  )

  it.effect("finalizes with a CSR the caller supplies", () =>
    Effect.gen(function*() {
      const acme = yield* AcmeProtocol.AcmeProtocol
      const session = yield* newAccount()
      const identifiers = [dns("own-csr.example.test")]
      const key = yield* CertificateKey.generate("ec-p256")
      const external = yield* Csr.create({ key, identifiers })
      const supplied = yield* Csr.fromPem(external.pem)
      expect(supplied.identifiers).toEqual(identifiers)

      const ordered = yield* acme.newOrder({ ...session, order: { identifiers } })
      const nonce = yield* authorize({ ...session, nonce: ordered.nonce }, ordered.value, "http-01")
      const ready = yield* acme.pollOrder({ nonce, account: session.account, url: ordered.value.url, until: "ready" })
      expect(ready.value.status).toBe("ready")
      const finalized = yield* acme.finalize({ nonce: ready.nonce, account: session.account, order: ready.value, csr: supplied })
      const valid = yield* acme.pollOrder({
        nonce: finalized.nonce,
        account: session.account,
        url: ordered.value.url,
        until: "valid"
      })
      const download = yield* acme.downloadCertificate({
        nonce: valid.nonce,
        account: session.account,
        url: valid.value.certificate ?? ""
      })
      expect(download.value.chain.certificates[0].identifiers).toEqual(identifiers)
      expect(download.value.chain.certificates.length).toBeGreaterThanOrEqual(2)
    }))

  it.effect("sends notBefore, notAfter, profile and replaces in newOrder when given", () =>
    Effect.gen(function*() {
      const acme = yield* AcmeProtocol.AcmeProtocol
      const session = yield* newAccount()
      const order = {
        identifiers: [dns("fields.example.test")],
        notBefore: "2026-11-23T00:00:00Z",
        notAfter: "2026-12-23T00:00:00Z",
        profile: "shortlived",
        replaces: "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"
      }
      const result = yield* Effect.either(acme.newOrder({ ...session, order }))
      const sent = (yield* requests).filter((r) => r.url === session.directory.newOrder).at(-1)
      expect(sent?.payload).toEqual({
        identifiers: [{ type: "dns", value: "fields.example.test" }],
        notBefore: "2026-11-23T00:00:00Z",
        notAfter: "2026-12-23T00:00:00Z",
        profile: "shortlived",
        replaces: "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"
      })
      // Pebble 2.4 either accepts the order (echoing the dates) or refuses the dates as malformed
      // Pebble 2.4 keeps the dates on the order (it ignores profile and replaces: it predates both)
      expect(result._tag).toBe("Right")
      const created = result._tag === "Right" ? result.right.value : undefined
      expect(created?.notBefore).toBe("2026-11-23T00:00:00Z")
      expect(created?.notAfter).toBe("2026-12-23T00:00:00Z")
      expect(created?.status).toBe("pending")
    }))

  it.effect("deactivates an authorization: the CA marks it deactivated and the order invalid", () =>
    Effect.gen(function*() {
      const acme = yield* AcmeProtocol.AcmeProtocol
      const session = yield* newAccount()
      const ordered = yield* acme.newOrder({ ...session, order: { identifiers: [dns("deactivate.example.test")] } })
      const url = ordered.value.authorizations[0] ?? ""
      const deactivated = yield* acme.deactivateAuthorization({ nonce: ordered.nonce, account: session.account, url })
      expect(deactivated.value.status).toBe("deactivated")
      const fetched = yield* acme.getAuthorization({ nonce: deactivated.nonce, account: session.account, url })
      expect(fetched.value.status).toBe("deactivated")
      const order = yield* acme.getOrder({ nonce: fetched.nonce, account: session.account, url: ordered.value.url })
      expect(order.value.status).toBe("invalid")
    }))

  it.effect("offers the three challenge types; asking for another fails with ChallengeUnavailable", () =>
    Effect.gen(function*() {
      const acme = yield* AcmeProtocol.AcmeProtocol
      const session = yield* newAccount()
      const ordered = yield* acme.newOrder({ ...session, order: { identifiers: [dns("offered.example.test")] } })
      const authz = yield* acme.getAuthorization({
        nonce: ordered.nonce,
        account: session.account,
        url: ordered.value.authorizations[0] ?? ""
      })
      expect(authz.value.challenges.map((c) => c.type).sort()).toEqual(["dns-01", "http-01", "tls-alpn-01"])
      const error = yield* Effect.flip(Authorization.selectChallenge(authz.value, "dns-account-01"))
      expect(error._tag).toBe("ChallengeUnavailable")
      expect(error.message).toMatch(/no dns-account-01 challenge for offered\.example\.test \(it offers .*tls-alpn-01/)
      expect(error.message).toContain("dns-01")
    }))

  it.effect("a failed validation ends the authorization invalid with the CA's reason", () =>
    Effect.gen(function*() {
      const acme = yield* AcmeProtocol.AcmeProtocol
      const session = yield* newAccount()
      const ordered = yield* acme.newOrder({ ...session, order: { identifiers: [dns("unanswered.example.test")] } })
      const url = ordered.value.authorizations[0] ?? ""
      const authz = yield* acme.getAuthorization({ nonce: ordered.nonce, account: session.account, url })
      // nothing is presented: challtestsrv has no answer for this token
      const challenge = yield* Authorization.selectChallenge(authz.value, "http-01")
      const responded = yield* acme.respondToChallenge({ nonce: authz.nonce, account: session.account, url: challenge.url })
      const error = yield* Effect.flip(acme.pollAuthorization({ nonce: responded.nonce, account: session.account, url }))
      expect(error._tag).toBe("AuthorizationFailed")
      expect(error._tag === "AuthorizationFailed" && error.status).toBe("invalid")
      expect(error._tag === "AuthorizationFailed" && error.challengeType).toBe("http-01")
      expect(error.message).toContain("unanswered.example.test")
      const order = yield* Effect.flip(acme.pollOrder({
        nonce: yield* acme.newNonce(session.directory),
        account: session.account,
        url: ordered.value.url,
        until: "ready"
      }))
      expect(order._tag).toBe("OrderFailed")
    }))

  describe("revocation", () => {
    it.effect("by the account with a reason code: the CA records it; a second revocation is AlreadyRevoked", () =>
      Effect.gen(function*() {
        const acme = yield* AcmeProtocol.AcmeProtocol
        const pebble = yield* Pebble.Pebble
        const session = yield* newAccount()
        const issued = yield* issue(session, { identifiers: [dns("revoke-account.example.test")] })
        const revoked = yield* acme.revokeCertificate({
          directory: session.directory,
          nonce: issued.nonce,
          certificate: issued.leaf,
          reason: "keyCompromise",
          signer: AcmeProtocol.signedByAccount(session.account)
        })
        const status = yield* pebble.certificateStatus(issued.leaf.serialNumber)
        expect(status.status).toBe("Revoked")
        expect(status.reason).toBe(1)
        const again = yield* Effect.flip(acme.revokeCertificate({
          directory: session.directory,
          nonce: revoked.nonce,
          certificate: issued.leaf,
          signer: AcmeProtocol.signedByAccount(session.account)
        }))
        expect(again._tag).toBe("AlreadyRevoked")
      }))

    it.effect("by the certificate's own key, without any account", () =>
      Effect.gen(function*() {
        const acme = yield* AcmeProtocol.AcmeProtocol
        const pebble = yield* Pebble.Pebble
        const session = yield* newAccount()
        const issued = yield* issue(session, { identifiers: [dns("revoke-key.example.test")], keyType: "ec-p384" })
        const nonce = yield* acme.newNonce(session.directory)
        yield* acme.revokeCertificate({
          directory: session.directory,
          nonce,
          certificate: issued.leaf,
          reason: "superseded",
          signer: AcmeProtocol.signedByCertificateKey(issued.key)
        })
        const status = yield* pebble.certificateStatus(issued.leaf.serialNumber)
        expect(status.status).toBe("Revoked")
        expect(status.reason).toBe(4)
        // the request carried the certificate key's JWK, not an account kid
        const sent = (yield* requests).filter((r) => r.url === session.directory.revokeCert).at(-1)
        expect(sent?.payload).toEqual({ certificate: expect.any(String), reason: 4 })
      }))
  })

  it.effect("two interleaved sequences with their own nonces never interfere", () =>
    Effect.gen(function*() {
      const acme = yield* AcmeProtocol.AcmeProtocol
      const before = (yield* requests).length
      const a = yield* newAccount()
      const b = yield* newAccount()
      const orderA = yield* acme.newOrder({ ...a, order: { identifiers: [dns("interleave-a.example.test")] } })
      const orderB = yield* acme.newOrder({ ...b, order: { identifiers: [dns("interleave-b.example.test")] } })
      const authzA = yield* acme.getAuthorization({
        nonce: orderA.nonce,
        account: a.account,
        url: orderA.value.authorizations[0] ?? ""
      })
      const authzB = yield* acme.getAuthorization({
        nonce: orderB.nonce,
        account: b.account,
        url: orderB.value.authorizations[0] ?? ""
      })
      // each sequence goes on with the nonce its own last answer carried
      expect(authzA.nonce).not.toBe(authzB.nonce)
      const nonceA = yield* authorize({ ...a, nonce: authzA.nonce }, orderA.value, "http-01")
      const nonceB = yield* authorize({ ...b, nonce: authzB.nonce }, orderB.value, "dns-01")
      const readyB = yield* acme.pollOrder({ nonce: nonceB, account: b.account, url: orderB.value.url, until: "ready" })
      const readyA = yield* acme.pollOrder({ nonce: nonceA, account: a.account, url: orderA.value.url, until: "ready" })
      expect([readyA.value.status, readyB.value.status]).toEqual(["ready", "ready"])

      const log = (yield* requests).slice(before)
      const posts = log.filter((r) => r.method === "POST")
      // no nonce was used twice and no request was refused: the sequences never shared a nonce
      const used = posts.map((r) => r.nonce)
      expect(new Set(used).size).toBe(used.length)
      expect(posts.every((r) => r.status < 400)).toBe(true)
      // and only the two sequences' first nonces came from newNonce
      expect(log.filter((r) => r.method === "HEAD")).toHaveLength(2)
    }))

  it.effect("lists the account's orders, following the pages (Pebble lists 3 per page)", () =>
    Effect.gen(function*() {
      const acme = yield* AcmeProtocol.AcmeProtocol
      const session = yield* newAccount()
      const issued = yield* issue(session, { identifiers: [dns("listed-0.example.test")] })
      let nonce = issued.nonce
      const placed: Array<string> = []
      for (const index of [1, 2, 3, 4]) {
        const order = yield* acme.newOrder({ ...session, nonce, order: { identifiers: [dns(`listed-${index}.example.test`)] } })
        placed.push(order.value.url)
        nonce = order.nonce
      }
      const listed = yield* acme.listOrders({ nonce, account: session.account })
      // Pebble lists every order of the account, the valid one too
      expect([...listed.value].sort()).toEqual([issued.order.url, ...placed].sort())
      const pages = (yield* requests).filter((r) => r.url.includes("/list-orderz/"))
      expect(pages.length).toBeGreaterThanOrEqual(2)
    }))

  it.effect("parses the downloaded chain: leaf first, issuer after", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const session = yield* newAccount()
      const issued = yield* issue(session, { identifiers: [dns("chain.example.test")] })
      const chain = issued.download.chain
      expect(chain.certificates).toHaveLength(2)
      const intermediate = yield* Certificate.parse(yield* pebble.intermediateCertificate(0))
      expect(chain.certificates[1]?.serialNumber).toBe(intermediate.serialNumber)
      expect(issued.leaf.issuer).toBe(intermediate.subject)
    }))
})
