import { Pebble } from "@acme/testing"
import { AccountKey, AcmeProtocol, type Identifier } from "@acme/sdk"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { issue, newAccount, pebbleProtocol, requests } from "./support/acme.js"

const dns = (value: string): Identifier.Identifier => ({ type: "dns", value })

layer(pebbleProtocol({ nonceRejectPercent: 50 }), { excludeTestServices: true })(
  "badNonce: Pebble rejects half of all valid nonces",
  (it) => {
    it.effect("every operation still succeeds, retried with the nonce that came with each error", () =>
      Effect.gen(function*() {
        const acme = yield* AcmeProtocol.AcmeProtocol
        const pebble = yield* Pebble.Pebble
        const session = yield* newAccount()
        const updated = yield* acme.updateAccount({ ...session, contact: ["mailto:fifty@example.test"] })
        expect(updated.value.contact).toEqual(["mailto:fifty@example.test"])

        const first = yield* issue({ ...session, nonce: updated.nonce }, {
          identifiers: [dns("fifty-a.example.test"), dns("fifty-b.example.test")],
          challenge: "dns-01"
        })
        const second = yield* issue({ ...session, nonce: first.nonce }, {
          identifiers: [dns("fifty-c.example.test")],
          challenge: "http-01"
        })
        const newKey = yield* AccountKey.generate()
        const rolled = yield* acme.changeKey({ ...session, nonce: second.nonce, newKey })
        yield* acme.revokeCertificate({
          directory: session.directory,
          nonce: rolled.nonce,
          certificate: first.leaf,
          reason: "cessationOfOperation",
          signer: AcmeProtocol.signedByAccount(rolled.value)
        })
        expect((yield* pebble.certificateStatus(first.leaf.serialNumber)).status).toBe("Revoked")
        expect((yield* pebble.certificateStatus(second.leaf.serialNumber)).status).toBe("Valid")

        const log = yield* requests
        const rejected = log.filter((r) => r.status === 400 && r.method === "POST")
        // with 50% rejection, ~30 signed requests meet many badNonce answers
        expect(rejected.length).toBeGreaterThan(3)
        // each retry used the nonce the error carried: only the session's first nonce came from a HEAD
        expect(log.filter((r) => r.method === "HEAD")).toHaveLength(1)
        for (const bad of rejected) {
          const retry = log[log.indexOf(bad) + 1]
          expect(retry?.url).toBe(bad.url)
          expect(retry?.nonce).toBe(bad.replayNonce)
        }
      }), 120_000)
  }
)
