import { Pebble, Requirement } from "@acme/testing"
import { AcmeProtocol, Certificate, Directory } from "@acme/sdk"
import { describe, expect, it, layer } from "@effect/vitest"
import { DateTime, Effect, Option } from "effect"
import { issue, newAccount, pebbleProtocol } from "./support/acme.js"

// Debian bookworm's Pebble (2.4) has no renewalInfo; scripts/fetch-pebble-ari.sh puts trixie's 2.6
// in .cache/pebble-ari, or PEBBLE_ARI_BIN names one. Without it these tests are skipped (under CI=true,
// the run fails instead).
const ariBinary = Option.getOrUndefined(await Effect.runPromise(Pebble.ariPebbleBinary))

const requirement = Requirement.decide({
  what: "a Pebble that offers ARI",
  missing: ariBinary === undefined ? "run scripts/fetch-pebble-ari.sh or set PEBBLE_ARI_BIN" : undefined
})

if (requirement._tag === "Fail") {
  it("a Pebble that offers ARI is there", () => {
    expect.fail(Requirement.message(requirement))
  })
}

describe.skipIf(requirement._tag !== "Run")(
  `ARI (RFC 9773) against a Pebble that offers renewalInfo${Requirement.note(requirement)}`,
  () => {
    layer(pebbleProtocol({ pebbleBin: ariBinary }), { excludeTestServices: true })("renewalInfo", (it) => {
      it.effect("the directory offers renewalInfo", () =>
        Effect.gen(function*() {
          const acme = yield* AcmeProtocol.AcmeProtocol
          expect(Directory.supportsRenewalInfo(yield* acme.directory)).toBe(true)
        }))

      it.effect("answers with a suggested window inside the certificate's lifetime, for the CertID we compute", () =>
        Effect.gen(function*() {
          const acme = yield* AcmeProtocol.AcmeProtocol
          const session = yield* newAccount()
          const issued = yield* issue(session, { identifiers: [{ type: "dns", value: "ari.example.test" }] })
          const info = yield* acme.renewalInfo({ directory: session.directory, certificate: issued.leaf })
          expect(info.certId).toBe(yield* Certificate.certId(issued.leaf))
          const { end, start } = info.suggestedWindow
          expect(DateTime.lessThan(start, end)).toBe(true)
          expect(DateTime.greaterThanOrEqualTo(start, issued.leaf.notBefore)).toBe(true)
          expect(DateTime.lessThanOrEqualTo(end, issued.leaf.notAfter)).toBe(true)
        }))

      it.effect("an order that replaces a certificate carries `replaces`, as the CA records it", () =>
        Effect.gen(function*() {
          const acme = yield* AcmeProtocol.AcmeProtocol
          const session = yield* newAccount()
          const identifiers = [{ type: "dns", value: "replace-me.example.test" }]
          const first = yield* issue(session, { identifiers })
          const certId = yield* Certificate.certId(first.leaf)
          const replacement = yield* acme.newOrder({
            ...session,
            nonce: first.nonce,
            order: { identifiers, replaces: certId }
          })
          expect(replacement.value.replaces).toBe(certId)
          expect(replacement.value.status).toBe("pending")
        }))
    })
  }
)
