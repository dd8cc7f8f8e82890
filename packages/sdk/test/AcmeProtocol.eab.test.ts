import { AccountKey, AcmeProtocol } from "@acme/sdk"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { pebbleProtocol, requests } from "./support/acme.js"

const KEYS = {
  "kid-1": "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W",
  "kid-2": "b10lLJs8l1GPIzsLP0s6pMt8O0XVGnfTaCeROxQM0BIt2XrJMDHJZBM5NuQmQJQH"
}

layer(pebbleProtocol({ eab: { required: true, keys: KEYS } }), { excludeTestServices: true })(
  "External Account Binding against a Pebble that requires it",
  (it) => {
    it.effect("the directory says EAB is required", () =>
      Effect.gen(function*() {
        const acme = yield* AcmeProtocol.AcmeProtocol
        expect((yield* acme.directory).meta?.externalAccountRequired).toBe(true)
      }))

    it.effect("without EAB the CA refuses with ExternalAccountRequired", () =>
      Effect.gen(function*() {
        const acme = yield* AcmeProtocol.AcmeProtocol
        const directory = yield* acme.directory
        const key = yield* AccountKey.generate()
        const error = yield* Effect.flip(
          acme.newAccount({ directory, nonce: yield* acme.newNonce(directory), key, termsOfServiceAgreed: true })
        )
        expect(error._tag).toBe("ExternalAccountRequired")
        expect(error.message).toContain("ca.eab")
      }))

    it.effect("with a wrong HMAC key the CA refuses the binding", () =>
      Effect.gen(function*() {
        const acme = yield* AcmeProtocol.AcmeProtocol
        const directory = yield* acme.directory
        const key = yield* AccountKey.generate()
        const error = yield* Effect.flip(acme.newAccount({
          directory,
          nonce: yield* acme.newNonce(directory),
          key,
          termsOfServiceAgreed: true,
          externalAccountBinding: { keyId: "kid-1", hmacKey: KEYS["kid-2"] }
        }))
        expect(error._tag).toBe("Unauthorized")
        expect(error.message).toContain("external account binding")
        const created = (yield* requests).filter((r) => r.url === directory.newAccount && r.status === 201)
        expect(created).toHaveLength(0)
      }))

    it.effect.each(["ES256", "RS256"] as const)("with the right kid and HMAC key a %s account is created and bound", (algorithm) =>
      Effect.gen(function*() {
        const acme = yield* AcmeProtocol.AcmeProtocol
        const directory = yield* acme.directory
        const key = yield* AccountKey.generate(algorithm)
        const created = yield* acme.newAccount({
          directory,
          nonce: yield* acme.newNonce(directory),
          key,
          termsOfServiceAgreed: true,
          externalAccountBinding: { keyId: "kid-2", hmacKey: KEYS["kid-2"] }
        })
        expect(created.value.created).toBe(true)
        expect(created.value.status).toBe("valid")
        // the binding went out as a JWS over the account key, under the CA's key id
        const sent = (yield* requests).filter((r) => r.url === directory.newAccount && r.status === 201).at(-1)
        const binding = (sent?.payload as { externalAccountBinding?: { protected: string; payload: string } })
          ?.externalAccountBinding
        expect(JSON.parse(Buffer.from(binding?.protected ?? "", "base64url").toString())).toEqual({
          alg: "HS256",
          kid: "kid-2",
          url: directory.newAccount
        })
        expect(JSON.parse(Buffer.from(binding?.payload ?? "", "base64url").toString())).toEqual(key.publicJwk)

        // the account exists: looking it up by key needs no binding
        const found = yield* acme.newAccount({ directory, nonce: created.nonce, key, onlyReturnExisting: true })
        expect(found.value.url).toBe(created.value.url)
      }))
  }
)
