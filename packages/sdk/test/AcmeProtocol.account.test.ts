import { AccountKey, AcmeProtocol, Nonce } from "@acme/sdk"
import { describe, expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { newAccount, pebbleProtocol, requests } from "./support/acme.js"

layer(pebbleProtocol(), { excludeTestServices: true })("AcmeProtocol accounts against Pebble", (it) => {
  describe("directory and nonces", () => {
    it.effect("reads the directory with its endpoints and meta", () =>
      Effect.gen(function*() {
        const acme = yield* AcmeProtocol.AcmeProtocol
        const directory = yield* acme.directory
        for (const url of [directory.newNonce, directory.newAccount, directory.newOrder, directory.revokeCert]) {
          expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\//)
        }
        expect(directory.keyChange).toMatch(/^https:/)
        expect(directory.meta?.termsOfService).toEqual(expect.any(String))
        expect(directory.meta?.externalAccountRequired).toBe(false)
      }))

    it.effect("newNonce gives a different, well-formed nonce each time", () =>
      Effect.gen(function*() {
        const acme = yield* AcmeProtocol.AcmeProtocol
        const directory = yield* acme.directory
        const a = yield* acme.newNonce(directory)
        const b = yield* acme.newNonce(directory)
        expect(Nonce.isNonce(a)).toBe(true)
        expect(a).not.toEqual(b)
      }))
  })

  describe("newAccount", () => {
    it.effect.each(["ES256", "ES384", "RS256"] as const)("creates a %s account, then finds it by key", (algorithm) =>
      Effect.gen(function*() {
        const acme = yield* AcmeProtocol.AcmeProtocol
        const { created, directory, key, nonce } = yield* newAccount({
          algorithm,
          contact: ["mailto:a@example.test"]
        })
        expect(created.created).toBe(true)
        expect(created.status).toBe("valid")
        expect(created.contact).toEqual(["mailto:a@example.test"])
        expect(created.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\//)

        const found = yield* acme.newAccount({ directory, nonce, key, onlyReturnExisting: true })
        expect(found.value.created).toBe(false)
        expect(found.value.url).toBe(created.url)

        // registering the same key again returns the existing account instead of a second one
        const again = yield* acme.newAccount({ directory, nonce: found.nonce, key, termsOfServiceAgreed: true })
        expect(again.value.created).toBe(false)
        expect(again.value.url).toBe(created.url)
      }))

    it.effect("onlyReturnExisting with an unknown key fails with AccountDoesNotExist", () =>
      Effect.gen(function*() {
        const acme = yield* AcmeProtocol.AcmeProtocol
        const directory = yield* acme.directory
        const key = yield* AccountKey.generate()
        const error = yield* Effect.flip(
          acme.newAccount({ directory, nonce: yield* acme.newNonce(directory), key, onlyReturnExisting: true })
        )
        expect(error._tag).toBe("AccountDoesNotExist")
        expect(error.message).toContain("accountDoesNotExist")
        // the error response's nonce is handed back, so a caller goes on without a new HEAD
        expect(error._tag === "AccountDoesNotExist" && Nonce.isNonce(error.nonce)).toBe(true)
      }))

    it.effect("sends the terms agreement and contacts the caller gave", () =>
      Effect.gen(function*() {
        yield* newAccount({ contact: ["mailto:terms@example.test"] })
        const log = yield* requests
        const sent = log.filter((r) => r.method === "POST" && r.url.endsWith("/sign-me-up")).at(-1)
        expect(sent?.payload).toEqual({ contact: ["mailto:terms@example.test"], termsOfServiceAgreed: true })
        expect(sent?.status).toBe(201)
      }))
  })

  describe("account management", () => {
    it.effect("updates the contacts, which the CA then reports", () =>
      Effect.gen(function*() {
        const acme = yield* AcmeProtocol.AcmeProtocol
        const { account, nonce } = yield* newAccount()
        const updated = yield* acme.updateAccount({
          nonce,
          account,
          contact: ["mailto:new@example.test", "mailto:second@example.test"]
        })
        expect(updated.value.contact).toEqual(["mailto:new@example.test", "mailto:second@example.test"])
        const fetched = yield* acme.getAccount({ nonce: updated.nonce, account })
        expect(fetched.value.contact).toEqual(["mailto:new@example.test", "mailto:second@example.test"])
      }))

    it.effect("deactivates an account, after which the CA refuses it", () =>
      Effect.gen(function*() {
        const acme = yield* AcmeProtocol.AcmeProtocol
        const { account, directory, nonce } = yield* newAccount()
        const deactivated = yield* acme.deactivateAccount({ nonce, account })
        expect(deactivated.value.status).toBe("deactivated")
        const refused = yield* Effect.flip(
          acme.newOrder({
            directory,
            nonce: deactivated.nonce,
            account,
            order: { identifiers: [{ type: "dns", value: "deactivated.example.test" }] }
          })
        )
        expect(refused._tag).toBe("Unauthorized")
      }))

    it.effect("rolls the account over to a new key; the old key is refused afterwards", () =>
      Effect.gen(function*() {
        const acme = yield* AcmeProtocol.AcmeProtocol
        const { account, directory, nonce } = yield* newAccount({ algorithm: "ES256" })
        const newKey = yield* AccountKey.generate("ES384")
        const rolled = yield* acme.changeKey({ directory, nonce, account, newKey })
        expect(rolled.value.url).toBe(account.url)
        expect(rolled.value.key.thumbprint).toBe(newKey.thumbprint)

        // the new key finds the same account and can act as it
        const byNewKey = yield* acme.newAccount({ directory, nonce: rolled.nonce, key: newKey, onlyReturnExisting: true })
        expect(byNewKey.value.url).toBe(account.url)
        const ordered = yield* acme.newOrder({
          directory,
          nonce: byNewKey.nonce,
          account: rolled.value,
          order: { identifiers: [{ type: "dns", value: "rolled.example.test" }] }
        })
        expect(ordered.value.status).toBe("pending")

        // the old key no longer belongs to any account
        const oldLookup = yield* Effect.flip(
          acme.newAccount({ directory, nonce: ordered.nonce, key: account.key, onlyReturnExisting: true })
        )
        expect(oldLookup._tag).toBe("AccountDoesNotExist")
        const oldSigned = yield* Effect.flip(acme.getAccount({ nonce: yield* acme.newNonce(directory), account }))
        // Pebble checks the signature against the account's (new, ES384) key and calls it malformed
        expect(oldSigned._tag).toBe("Malformed")
      }))
  })
})
