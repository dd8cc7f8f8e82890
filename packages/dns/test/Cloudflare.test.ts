import { Cloudflare } from "@acme/dns"
import { Plugin } from "@acme/sdk"
import { HttpStub } from "@acme/testing"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Redacted } from "effect"
import { makeContext, platform } from "./support/context.js"

/**
 * Cloudflare's API v4 as a local stub: one zone `example.test` (id `zone-1`), the bearer token
 * `good-token`, the real envelope `{ success, errors, messages, result }`.
 */
const cloudflareStub = Effect.gen(function*() {
  const records = new Map<string, { id: string; type: string; name: string; content: string; ttl: number }>()
  let nextId = 1
  const envelope = (status: number, result: unknown, errors: ReadonlyArray<{ code: number; message: string }> = []) => ({
    status,
    json: { success: errors.length === 0, errors, messages: [], result }
  })
  const stub = yield* HttpStub.make((request) => {
    if (request.headers.authorization !== "Bearer good-token") {
      return envelope(403, null, [{ code: 10000, message: "Authentication error" }])
    }
    const url = new URL(request.url, "http://stub")
    const path = url.pathname.replace(/^\/client\/v4/, "")
    if (request.method === "GET" && path === "/zones") {
      const name = url.searchParams.get("name")
      return envelope(200, name === "example.test" ? [{ id: "zone-1", name: "example.test", status: "active" }] : [])
    }
    const recordsPath = /^\/zones\/([^/]+)\/dns_records(?:\/([^/]+))?$/.exec(path)
    if (recordsPath === null || recordsPath[1] !== "zone-1") {
      return envelope(404, null, [{ code: 7003, message: "Could not route to /zones/..., perhaps your object identifier is invalid?" }])
    }
    if (request.method === "POST") {
      const body = request.json as { type: string; name: string; content: string; ttl: number }
      if ([...records.values()].some((r) => r.name === body.name && r.type === body.type && r.content === body.content)) {
        return envelope(400, null, [{ code: 81058, message: "An identical record already exists." }])
      }
      const id = `rec-${nextId++}`
      records.set(id, { id, ...body })
      return envelope(200, { id, ...body })
    }
    if (request.method === "GET") {
      const name = url.searchParams.get("name")
      const type = url.searchParams.get("type")
      return envelope(200, [...records.values()].filter((r) => r.name === name && r.type === type))
    }
    if (request.method === "DELETE" && recordsPath[2] !== undefined) {
      return records.delete(recordsPath[2])
        ? envelope(200, { id: recordsPath[2] })
        : envelope(404, null, [{ code: 81044, message: "Record does not exist." }])
    }
    return envelope(405, null, [{ code: 10405, message: "Method not allowed" }])
  })
  return { ...stub, records, baseUrl: `${stub.url}/client/v4` }
})

const contents = (records: Map<string, { name: string; content: string }>) =>
  [...records.values()].map((r) => `${r.name} ${r.content}`).sort()

describe("Cloudflare against a stub of API v4", () => {
  it.scoped("adds TXT values (a wildcard and its base name side by side) and removes exactly one", () =>
    Effect.gen(function*() {
      const stub = yield* cloudflareStub
      const provider = yield* Cloudflare.make({ apiToken: Redacted.make("good-token"), baseUrl: stub.baseUrl })
      const name = "_acme-challenge.example.test"
      yield* provider.present({ name, value: "wildcard-value" })
      yield* provider.present({ name, value: "base-value" })
      yield* provider.present({ name, value: "base-value" }) // identical: already there, not an error
      expect(contents(stub.records)).toEqual([`${name} base-value`, `${name} wildcard-value`])
      expect([...stub.records.values()].every((r) => r.ttl === 120 && r.type === "TXT")).toBe(true)
      // the zone was found by asking for the name, then its parent
      const zoneLookups = (yield* stub.requests).filter((r) => r.url.startsWith("/client/v4/zones?")).map((r) => r.url)
      expect(zoneLookups.slice(0, 2)).toEqual([
        "/client/v4/zones?name=_acme-challenge.example.test",
        "/client/v4/zones?name=example.test"
      ])
      yield* provider.cleanup({ name, value: "wildcard-value" })
      expect(contents(stub.records)).toEqual([`${name} base-value`])
      expect((yield* stub.requests).filter((r) => r.method === "DELETE")).toHaveLength(1)
    }).pipe(Effect.provide(platform)))

  it.scoped("a rejected token is Unauthorized, with Cloudflare's words and what to grant", () =>
    Effect.gen(function*() {
      const stub = yield* cloudflareStub
      const provider = yield* Cloudflare.make({ apiToken: Redacted.make("wrong-token"), baseUrl: stub.baseUrl })
      const error = yield* Effect.flip(provider.present({ name: "_acme-challenge.example.test", value: "v" }))
      expect(error.reason).toBe("Unauthorized")
      expect(error.message).toBe(
        "DNS provider cloudflare: Cloudflare rejected the API token (GET /zones?name=_acme-challenge.example.test: " +
          "HTTP 403: Authentication error [10000]); give the token Zone:DNS:Edit (and Zone:Read) for the zone"
      )
      expect(error.message).not.toContain("wrong-token")
    }).pipe(Effect.provide(platform)))

  it.scoped("a name in no zone of the account is NotFound, listing what was asked", () =>
    Effect.gen(function*() {
      const stub = yield* cloudflareStub
      const provider = yield* Cloudflare.make({ apiToken: Redacted.make("good-token"), baseUrl: stub.baseUrl })
      const error = yield* Effect.flip(provider.present({ name: "_acme-challenge.example.org", value: "v" }))
      expect(error.reason).toBe("NotFound")
      expect(error.message).toBe(
        "DNS provider cloudflare: no Cloudflare zone holds _acme-challenge.example.org (asked for " +
          "_acme-challenge.example.org, example.org, org); check that the token may read the zone, or set zone/zoneId"
      )
      expect(stub.records.size).toBe(0)
    }).pipe(Effect.provide(platform)))

  it.scoped("a wrong zoneId is Refused with Cloudflare's error", () =>
    Effect.gen(function*() {
      const stub = yield* cloudflareStub
      const provider = yield* Cloudflare.make({
        apiToken: Redacted.make("good-token"),
        baseUrl: stub.baseUrl,
        zoneId: "zone-9"
      })
      const error = yield* Effect.flip(provider.present({ name: "_acme-challenge.example.test", value: "v" }))
      expect(error.reason).toBe("Refused")
      expect(error.message).toContain("POST /zones/zone-9/dns_records (TXT _acme-challenge.example.test): HTTP 404: Could not route")
      expect((yield* stub.requests).some((r) => r.url.startsWith("/client/v4/zones?"))).toBe(false)
    }).pipe(Effect.provide(platform)))

  it.scoped("the plugin reads the token from the environment ({ env: NAME }) and rejects unknown keys", () =>
    Effect.gen(function*() {
      const stub = yield* cloudflareStub
      const asked: Array<string> = []
      const context = makeContext({ CF_TOKEN: "good-token" }, asked)
      const configurable = Plugin.configurable(Cloudflare.plugin)
      const build = Either.getOrThrow(configurable.configure({ apiToken: { env: "CF_TOKEN" }, baseUrl: stub.baseUrl }))
      const provider = yield* build(context)
      yield* provider.present({ name: "_acme-challenge.example.test", value: "from-env" })
      expect(asked).toEqual(["CF_TOKEN"])
      expect(contents(stub.records)).toEqual(["_acme-challenge.example.test from-env"])

      const missing = Either.getOrThrow(configurable.configure({ apiToken: { env: "NOPE" } }))
      expect((yield* Effect.flip(missing(context))).message).toBe("env: environment variable NOPE is not set")
      const unknown = configurable.configure({ apiToken: "t", apiKey: "x" })
      expect(Either.isLeft(unknown) && unknown.left.message).toContain("apiKey")
    }).pipe(Effect.provide(platform)))
})
