import { HttpStub } from "@acme/testing"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Fiber } from "effect"

const call = (url: string, init: RequestInit = {}) =>
  Effect.promise(async () => {
    const response = await fetch(url, init)
    return { status: response.status, contentType: response.headers.get("content-type"), headers: response.headers, text: await response.text() }
  })

describe("HttpStub", () => {
  it.scoped("records every request (method, URL, path, query, headers, body as text and JSON) in order", () =>
    Effect.gen(function*() {
      const stub = yield* HttpStub.make((_, index) => ({ status: 200, json: { index } }))
      expect(stub.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      const first = yield* call(`${stub.url}/v1/records?name=a.example&type=TXT`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": "k" },
        body: JSON.stringify({ txt: "value" })
      })
      expect(first.status).toBe(200)
      expect(first.contentType).toBe("application/json")
      expect(JSON.parse(first.text)).toEqual({ index: 0 })
      yield* call(`${stub.url}/plain`, { method: "PUT", body: "not json" })
      yield* call(`${stub.url}/`)

      const [a, b, c, ...rest] = yield* stub.requests
      expect(rest).toEqual([])
      expect(a).toMatchObject({ method: "POST", url: "/v1/records?name=a.example&type=TXT", path: "/v1/records", text: "{\"txt\":\"value\"}", json: { txt: "value" } })
      expect(a?.query.get("name")).toBe("a.example")
      expect(a?.headers["x-api-key"]).toBe("k")
      expect(b).toMatchObject({ method: "PUT", path: "/plain", text: "not json", json: undefined })
      expect(c).toMatchObject({ method: "GET", path: "/", text: "", json: undefined })
    }))

  it.scopedLive("answers JSON, text with its content type and extra headers, or an Effect's reply", () =>
    Effect.gen(function*() {
      const stub = yield* HttpStub.make(HttpStub.routes({
        "GET /json": () => ({ status: 429, headers: { "retry-after": "20" }, json: { error: "slow down" } }),
        "GET /xml": () => ({ status: 200, text: "<ok/>", contentType: "text/xml" }),
        "GET /text": () => ({ status: 503, text: "busy" }),
        "GET /later": () => Effect.succeed({ status: 201, json: { created: true } }).pipe(Effect.delay("10 millis"))
      }))
      const json = yield* call(`${stub.url}/json?x=1`)
      expect([json.status, json.contentType, json.headers.get("retry-after"), json.text]).toEqual([
        429,
        "application/json",
        "20",
        "{\"error\":\"slow down\"}"
      ])
      const xml = yield* call(`${stub.url}/xml`)
      expect([xml.status, xml.contentType, xml.text]).toEqual([200, "text/xml", "<ok/>"])
      const text = yield* call(`${stub.url}/text`)
      expect([text.status, text.contentType, text.text]).toEqual([503, "text/plain; charset=utf-8", "busy"])
      const later = yield* call(`${stub.url}/later`)
      expect([later.status, later.text]).toEqual([201, "{\"created\":true}"])
      // not routed: 404
      const missing = yield* call(`${stub.url}/json`, { method: "POST" })
      expect([missing.status, missing.text]).toEqual([404, "404 page not found"])
    }))

  it.live("a hanging reply never answers, and closing the scope closes its connection", () =>
    Effect.gen(function*() {
      const [fiber, requests] = yield* Effect.gen(function*() {
        const stub = yield* HttpStub.make(() => "hang")
        const fiber = yield* Effect.fork(Effect.either(Effect.tryPromise(() => fetch(`${stub.url}/slow`))))
        while ((yield* stub.requests).length === 0) yield* Effect.sleep("5 millis")
        expect(fiber.unsafePoll()).toBeNull()
        return [fiber, stub.requests] as const
      }).pipe(Effect.scoped)
      // the connection was closed under the waiting client
      const result = yield* Fiber.join(fiber)
      expect(Either.isLeft(result)).toBe(true)
      expect(yield* requests).toHaveLength(1)
    }))

  it("record: an object's members; anything else has none", () => {
    expect(HttpStub.record({ a: 1 })).toEqual({ a: 1 })
    expect(HttpStub.record([1])).toEqual({})
    expect(HttpStub.record(null)).toEqual({})
    expect(HttpStub.record("x")).toEqual({})
  })
})
