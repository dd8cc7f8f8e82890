/**
 * The messages of bad answers speak of what came back and what to check, never in Schema's words
 * ("(parseJson <-> (Struct (Encoded side) <-> ...").
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { accountRef, BASE, fakeCa, json, someNonce, withBasics } from "./support/fakeCa.js"

/** what Schema's formatters say about themselves */
const schemaText = /parseJson|<->|Encoded side|Type side|Struct|Transformation|readonly |└─/

describe("messages of bad answers", () => {
  it.effect("a 404 HTML page for the directory: the status, the HTML page, and the directory URL to check", () =>
    Effect.gen(function*() {
      const { acme } = yield* fakeCa(() =>
        new Response("<!DOCTYPE html><html><body><h1>Not Found</h1></body></html>", {
          status: 404,
          headers: { "content-type": "text/html; charset=utf-8" }
        })
      )
      const error = yield* Effect.flip(acme.directory)
      expect(error._tag).toBe("InvalidResponse")
      expect(error.message).toBe(
        `the CA answered 404 to GET ${BASE}/directory with an HTML page, not an ACME response: is the directory URL right?`
      )
    }))

  it.effect("a 400 whose body is neither JSON nor HTML, and one that is JSON but no problem document", () =>
    Effect.gen(function*() {
      for (const [body, says] of [["Bad gateway config", "a body that is not JSON"], ["[1, 2]", "JSON that is not a problem document"]]) {
        const { acme } = yield* fakeCa(withBasics(() => new Response(body, { status: 400, headers: { "replay-nonce": "eA" } })))
        const error = yield* Effect.flip(acme.getOrder({ nonce: someNonce, account: yield* accountRef, url: `${BASE}/o/1` }))
        expect(error._tag).toBe("InvalidResponse")
        expect(error.message).toContain(`the CA answered 400 to POST ${BASE}/o/1 with ${says}`)
        expect(error.message).not.toMatch(schemaText)
      }
    }))

  it.effect("a directory with a field of the wrong type names the field, in plain words", () =>
    Effect.gen(function*() {
      const { acme } = yield* fakeCa(() => json({ newNonce: 42, newAccount: `${BASE}/a`, newOrder: `${BASE}/o` }))
      const error = yield* Effect.flip(acme.directory)
      expect(error._tag === "InvalidResponse" && error.reason).toBe("MalformedDirectory")
      expect(error.message).toContain("newNonce")
      expect(error.message).not.toMatch(schemaText)
    }))

  it.effect("an order that is a list, and one with an unknown status: what was expected, in plain words", () =>
    Effect.gen(function*() {
      for (const body of [[], { status: 42, identifiers: [], authorizations: [], finalize: `${BASE}/f` }]) {
        const { acme } = yield* fakeCa(withBasics(() => json(body)))
        const error = yield* Effect.flip(acme.getOrder({ nonce: someNonce, account: yield* accountRef, url: `${BASE}/o/1` }))
        expect(error._tag).toBe("InvalidResponse")
        expect(error.message).not.toMatch(schemaText)
        expect(error.message).not.toContain("\n")
      }
    }))
})
