import { Pebble } from "@acme/testing"
import { Certificate, type Identifier } from "@acme/sdk"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { issue, newAccount, pebbleProtocol, requests } from "./support/acme.js"

const dns = (value: string): Identifier.Identifier => ({ type: "dns", value })

layer(pebbleProtocol({ alternateRoots: 2, chainLength: 2 }), { excludeTestServices: true })(
  "alternate chains: Pebble with three roots and two intermediates per chain",
  (it) => {
    it.effect("offers the alternates and keeps the default chain when no issuer is preferred", () =>
      Effect.gen(function*() {
        const pebble = yield* Pebble.Pebble
        const issued = yield* issue(yield* newAccount(), { identifiers: [dns("default-chain.example.test")] })
        expect(issued.download.alternates).toHaveLength(2)
        expect(issued.download.preferredIssuerMatched).toBeUndefined()
        // leaf + two intermediates
        expect(issued.download.chain.certificates).toHaveLength(3)
        const root0 = yield* Certificate.parse(yield* pebble.rootCertificate(0))
        expect(Certificate.topIssuerName(issued.download.chain)).toBe(root0.subjectCommonName)
      }))

    it.effect.each([1, 2])("chooses the chain that ends at root %i when its name is preferred", (index) =>
      Effect.gen(function*() {
        const pebble = yield* Pebble.Pebble
        const root = yield* Certificate.parse(yield* pebble.rootCertificate(index))
        const preferredIssuer = root.subjectCommonName ?? ""
        expect(preferredIssuer).not.toBe("")
        const issued = yield* issue(yield* newAccount(), {
          identifiers: [dns(`preferred-${index}.example.test`)],
          preferredIssuer
        })
        expect(issued.download.preferredIssuerMatched).toBe(true)
        expect(Certificate.topIssuerName(issued.download.chain)).toBe(preferredIssuer)
        expect(issued.download.alternates).toContain(issued.download.url)
        // every chain carries the same leaf
        expect(issued.download.chain.certificates[0].serialNumber).toBe(issued.leaf.serialNumber)
      }))

    it.effect("an unknown issuer keeps the default chain, after trying each alternate once", () =>
      Effect.gen(function*() {
        const issued = yield* issue(yield* newAccount(), {
          identifiers: [dns("no-such-issuer.example.test")],
          preferredIssuer: "No Such Root"
        })
        expect(issued.download.preferredIssuerMatched).toBe(false)
        const log = yield* requests
        const fetched = log.filter((r) => issued.download.alternates.includes(r.url) && r.method === "POST")
        expect(fetched).toHaveLength(2)
      }))
  }
)
