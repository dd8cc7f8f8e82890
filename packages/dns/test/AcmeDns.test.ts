import { AcmeDns } from "@acme/dns"
import { Plugin } from "@acme/sdk"
import { HttpStub } from "@acme/testing"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Redacted } from "effect"
import { makeContext, platform } from "./support/context.js"

const subdomain = "8e5700ea-a4bf-41c7-8a77-e990661dcc6a"
const fulldomain = `${subdomain}.auth.example.test`

/** acme-dns's API as a stub: POST /update with X-Api-User / X-Api-Key; keeps the two newest values */
const acmeDnsStub = Effect.gen(function*() {
  const values: Array<string> = []
  const stub = yield* HttpStub.make(HttpStub.routes({
    "POST /update": (request) => {
      if (request.headers["x-api-user"] !== "user-1" || request.headers["x-api-key"] !== "key-1") {
        return { status: 401, json: { error: "forbidden" } }
      }
      const body = HttpStub.record(request.json)
      if (body["subdomain"] !== subdomain) return { status: 401, json: { error: "forbidden" } }
      const txt = String(body["txt"])
      if (txt.length !== 43) return { status: 400, json: { error: "bad_txt" } }
      values.push(txt)
      if (values.length > 2) values.shift()
      return { status: 200, json: { txt } }
    }
  }))
  return { ...stub, values }
})

const value = (c: string) => c.repeat(43)

describe("acme-dns against a stub of its API", () => {
  it.scoped("updates the subdomain's TXT with the API user and key; cleanup sends nothing", () =>
    Effect.gen(function*() {
      const stub = yield* acmeDnsStub
      const provider = yield* AcmeDns.make({
        baseUrl: stub.url,
        username: Redacted.make("user-1"),
        password: Redacted.make("key-1"),
        subdomain,
        fulldomain
      })
      yield* provider.present({ name: fulldomain, value: value("a") })
      yield* provider.present({ name: fulldomain, value: value("b") })
      expect(stub.values).toEqual([value("a"), value("b")])
      const [first] = yield* stub.requests
      expect(first?.json).toEqual({ subdomain, txt: value("a") })
      expect(first?.headers["content-type"]).toBe("application/json")
      yield* provider.cleanup({ name: fulldomain, value: value("a") })
      expect(yield* stub.requests).toHaveLength(2)
    }).pipe(Effect.provide(platform)))

  it.scoped("wrong credentials are Unauthorized; a bad value is Refused with acme-dns's error", () =>
    Effect.gen(function*() {
      const stub = yield* acmeDnsStub
      const wrong = yield* AcmeDns.make({
        baseUrl: stub.url,
        username: Redacted.make("user-1"),
        password: Redacted.make("key-2"),
        subdomain
      })
      const error = yield* Effect.flip(wrong.present({ name: fulldomain, value: value("a") }))
      expect(error.reason).toBe("Unauthorized")
      expect(error.message).toBe(
        `DNS provider acme-dns: POST ${stub.url}/update: HTTP 401 (forbidden); check username, password and subdomain (from /register)`
      )
      expect(error.message).not.toContain("key-2")
      const right = yield* AcmeDns.make({
        baseUrl: stub.url,
        username: Redacted.make("user-1"),
        password: Redacted.make("key-1"),
        subdomain
      })
      const bad = yield* Effect.flip(right.present({ name: fulldomain, value: "short" }))
      expect(bad.reason).toBe("Refused")
      expect(bad.message).toBe(`DNS provider acme-dns: POST ${stub.url}/update: HTTP 400 (bad_txt)`)
    }).pipe(Effect.provide(platform)))

  it.scoped("a record name that is not fulldomain (the CNAME is missing) is Invalid and says which CNAME to add", () =>
    Effect.gen(function*() {
      const stub = yield* acmeDnsStub
      const build = Either.getOrThrow(
        Plugin.configurable(AcmeDns.plugin).configure({
          baseUrl: stub.url,
          username: { env: "ACMEDNS_USERNAME" },
          password: { env: "ACMEDNS_PASSWORD" },
          subdomain,
          fulldomain
        })
      )
      const provider = yield* build(makeContext({ ACMEDNS_USERNAME: "user-1", ACMEDNS_PASSWORD: "key-1" }))
      const error = yield* Effect.flip(provider.present({ name: "_acme-challenge.www.example.test", value: value("a") }))
      expect(error.reason).toBe("Invalid")
      expect(error.message).toBe(
        `DNS provider acme-dns: the record goes to _acme-challenge.www.example.test, not to acme-dns's ${fulldomain}; ` +
          `add the CNAME: _acme-challenge.<your name> CNAME ${fulldomain}.`
      )
      expect(yield* stub.requests).toHaveLength(0)
      // through the plugin, with the credentials from the environment, it works
      yield* provider.present({ name: fulldomain, value: value("c") })
      expect(stub.values).toEqual([value("c")])
    }).pipe(Effect.provide(platform)))
})
