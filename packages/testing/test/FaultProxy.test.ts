import { expect, layer } from "@effect/vitest"
import { Effect, Either, Layer } from "effect"
import * as Http from "node:http"
import * as Https from "node:https"
import { FaultProxy, Pebble } from "@acme/testing"

interface Answer {
  readonly status: number
  readonly headers: Http.IncomingHttpHeaders
  readonly body: string
}

/** One request over HTTPS trusting `ca` (or plain HTTP); fails with the socket error when the answer breaks off. */
const request = (ca: string, url: string, method = "GET") =>
  Effect.async<Answer, Error>((resume) => {
    const send = url.startsWith("http:") ? Http.request : Https.request
    const outgoing = send(url, { method, ca, agent: false }, (response) => {
      const parts: Array<Buffer> = []
      response.on("data", (chunk: Buffer) => parts.push(chunk))
      response.on("error", (error) => resume(Effect.fail(error)))
      response.on("aborted", () => resume(Effect.fail(new Error("aborted"))))
      response.on("end", () =>
        resume(Effect.succeed({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(parts).toString("utf8")
        })))
    })
    outgoing.on("error", (error) => resume(Effect.fail(error)))
    outgoing.end()
  })

const Env = FaultProxy.layer.pipe(Layer.provideMerge(Pebble.layer()))

layer(Env, { excludeTestServices: true })("FaultProxy in front of Pebble", (it) => {
  it.effect("passes requests through over HTTPS, and Pebble's URLs point at the proxy", () =>
    Effect.gen(function*() {
      const proxy = yield* FaultProxy.FaultProxy
      const pebble = yield* Pebble.Pebble
      yield* proxy.clear
      const directory = yield* request(proxy.caBundle, proxy.directoryUrl)
      expect(directory.status).toBe(200)
      const urls: Record<string, unknown> = JSON.parse(directory.body)
      for (const key of ["newNonce", "newAccount", "newOrder", "revokeCert", "keyChange"]) {
        expect(String(urls[key]), key).toMatch(new RegExp(`^${proxy.url}/`))
      }
      expect(directory.body).not.toContain(new URL(pebble.directoryUrl).origin)
      const nonce = yield* request(proxy.caBundle, String(urls.newNonce), "HEAD")
      expect(nonce.headers["replay-nonce"]).toMatch(/^[A-Za-z0-9_-]+$/)
      // its certificate is its own: a client that trusts only Pebble's CA refuses it
      const untrusted = yield* Effect.either(request(pebble.caBundle, proxy.directoryUrl))
      expect(Either.isLeft(untrusted)).toBe(true)
    }))

  it.effect("applies a fault to the next N matching requests only, and logs what it did", () =>
    Effect.gen(function*() {
      const proxy = yield* FaultProxy.FaultProxy
      yield* proxy.clear
      const before = (yield* proxy.exchanges).length
      yield* proxy.inject({ method: "GET", path: "/dir", times: 2, fault: FaultProxy.status(503, { retryAfter: 1 }) })
      const first = yield* request(proxy.caBundle, proxy.directoryUrl)
      expect(first.status).toBe(503)
      expect(first.headers["retry-after"]).toBe("1")
      expect(JSON.parse(first.body).type).toBe("urn:ietf:params:acme:error:serverInternal")
      expect(first.headers["content-type"]).toBe("application/problem+json")
      // another method does not match
      expect((yield* request(proxy.caBundle, proxy.directoryUrl, "HEAD")).status).toBe(200)
      expect((yield* request(proxy.caBundle, proxy.directoryUrl)).status).toBe(503)
      expect((yield* request(proxy.caBundle, proxy.directoryUrl)).status).toBe(200)
      expect((yield* proxy.exchanges).slice(before).map((e) => [e.method, e.status, e.fault])).toEqual([
        ["GET", 503, "Status"],
        ["HEAD", 200, undefined],
        ["GET", 503, "Status"],
        ["GET", 200, undefined]
      ])
    }))

  it.effect("spoils bodies: malformed JSON, wrong content type, oversized (chunked or declared)", () =>
    Effect.gen(function*() {
      const proxy = yield* FaultProxy.FaultProxy
      yield* proxy.clear
      const good = yield* request(proxy.caBundle, proxy.directoryUrl)

      yield* proxy.inject({ path: "/dir", times: 1, fault: FaultProxy.malformedJson })
      const malformed = yield* request(proxy.caBundle, proxy.directoryUrl)
      expect(malformed.status).toBe(200)
      expect(malformed.body.length).toBe(Math.floor(good.body.length / 2))
      expect(() => JSON.parse(malformed.body)).toThrow()

      yield* proxy.inject({ path: "/dir", times: 1, fault: FaultProxy.wrongContentType() })
      const html = yield* request(proxy.caBundle, proxy.directoryUrl)
      expect(html.headers["content-type"]).toBe("text/html; charset=utf-8")
      expect(JSON.parse(html.body)).toEqual(JSON.parse(good.body))

      yield* proxy.inject({ path: "/dir", times: 1, fault: FaultProxy.oversized({ bytes: 3_000_000 }) })
      const chunked = yield* request(proxy.caBundle, proxy.directoryUrl)
      expect(chunked.headers["content-length"]).toBeUndefined()
      expect(chunked.headers["transfer-encoding"]).toBe("chunked")
      expect(chunked.body.length).toBe(3_000_000)
      // padded with whitespace: still the same JSON, only too big
      expect(JSON.parse(chunked.body)).toEqual(JSON.parse(good.body))

      yield* proxy.inject({ path: "/dir", times: 1, fault: FaultProxy.oversized({ declareLength: true }) })
      const declared = yield* request(proxy.caBundle, proxy.directoryUrl)
      expect(declared.headers["content-length"]).toBe(String(2 * 1024 * 1024))
    }))

  it.effect("redirects to http:// and drops connections mid-response", () =>
    Effect.gen(function*() {
      const proxy = yield* FaultProxy.FaultProxy
      yield* proxy.clear
      yield* proxy.inject({ path: "/dir", times: 1, fault: FaultProxy.redirect() })
      const redirected = yield* request(proxy.caBundle, proxy.directoryUrl)
      expect(redirected.status).toBe(301)
      expect(redirected.headers.location).toBe(`http://127.0.0.1:${proxy.port}/dir`)

      yield* proxy.inject({ path: "/dir", times: 1, fault: FaultProxy.drop })
      const dropped = yield* Effect.either(request(proxy.caBundle, proxy.directoryUrl))
      expect(Either.isLeft(dropped)).toBe(true)
      yield* proxy.inject({ method: "HEAD", path: "/", times: 1, fault: FaultProxy.drop })
      const noAnswer = yield* Effect.either(request(proxy.caBundle, proxy.directoryUrl, "HEAD"))
      expect(Either.isLeft(noAnswer)).toBe(true)
      // and the proxy goes on serving
      expect((yield* request(proxy.caBundle, proxy.directoryUrl)).status).toBe(200)
    }))

  it.effect("faults a percentage of the matching requests", () =>
    Effect.gen(function*() {
      const proxy = yield* FaultProxy.FaultProxy
      yield* proxy.clear
      yield* proxy.inject({ method: "HEAD", path: "/", percent: 50, fault: FaultProxy.status(500) })
      const statuses = yield* Effect.forEach(
        Array.from({ length: 60 }, () => proxy.directoryUrl),
        (url) => Effect.map(request(proxy.caBundle, url, "HEAD"), (a) => a.status)
      )
      const failed = statuses.filter((s) => s === 500).length
      // 60 draws at 50%: outside 12..48 has a probability below 1e-5
      expect(failed).toBeGreaterThan(12)
      expect(failed).toBeLessThan(48)
      expect(statuses.filter((s) => s !== 500 && s !== 200)).toEqual([])
      yield* proxy.clear
    }))

  it.effect("edits answers: status, JSON, headers, origin; resets and delays", () =>
    Effect.gen(function*() {
      const proxy = yield* FaultProxy.FaultProxy
      yield* proxy.clear
      const good = yield* request(proxy.caBundle, proxy.directoryUrl)

      yield* proxy.inject({ path: "/dir", times: 1, fault: FaultProxy.editStatus(418) })
      const teapot = yield* request(proxy.caBundle, proxy.directoryUrl)
      expect([teapot.status, teapot.body]).toEqual([418, good.body])

      yield* proxy.inject({
        path: "/dir",
        times: 1,
        fault: FaultProxy.editJson((body) => ({ ...(body as object), newNonce: 42 }))
      })
      expect(JSON.parse((yield* request(proxy.caBundle, proxy.directoryUrl)).body).newNonce).toBe(42)

      yield* proxy.inject({
        method: "HEAD",
        path: "/nonce-plz",
        times: 1,
        fault: FaultProxy.editHeaders((headers) => ({ ...headers, "replay-nonce": ["AAAA", "BBBB"] }))
      })
      const urls = JSON.parse(good.body)
      expect((yield* request(proxy.caBundle, urls.newNonce, "HEAD")).headers["replay-nonce"]).toBe("AAAA, BBBB")

      yield* proxy.inject({ path: "/dir", times: 1, fault: FaultProxy.rewriteOrigin("http://elsewhere.test:81") })
      const moved = JSON.parse((yield* request(proxy.caBundle, proxy.directoryUrl)).body)
      expect(moved.newNonce).toBe(String(urls.newNonce).replace(proxy.url, "http://elsewhere.test:81"))

      yield* proxy.inject({ path: "/dir", times: 1, fault: FaultProxy.reset() })
      expect(Either.isLeft(yield* Effect.either(request(proxy.caBundle, proxy.directoryUrl)))).toBe(true)

      yield* proxy.inject({ path: "/dir", times: 1, fault: FaultProxy.delay(150, FaultProxy.editStatus(503)) })
      const started = performance.now()
      const late = yield* request(proxy.caBundle, proxy.directoryUrl)
      expect(late.status).toBe(503)
      expect(performance.now() - started).toBeGreaterThanOrEqual(140)
    }))

  it.effect("records every request to another origin in its traps, and answers it 404", () =>
    Effect.gen(function*() {
      const proxy = yield* FaultProxy.FaultProxy
      yield* proxy.clear
      expect(proxy.traps).toHaveLength(3)
      expect(proxy.traps).toContain(`https://localhost:${proxy.port}`)
      const before = (yield* proxy.exchanges).length
      for (const trap of proxy.traps) {
        expect((yield* request(proxy.caBundle, `${trap}/order-plz`, "POST")).status).toBe(404)
      }
      expect((yield* proxy.trapped).map((t) => [t.origin, t.method, t.path])).toEqual(
        proxy.traps.map((trap) => [trap, "POST", "/order-plz"])
      )
      // none of them reached the CA
      expect((yield* proxy.exchanges).length).toBe(before)
    }))

  it.effect("chaos: the same seed spoils the same answers the same way; another seed others; rate 0 none", () =>
    Effect.gen(function*() {
      const proxy = yield* FaultProxy.FaultProxy
      const sequence = (seed: number, rate?: number) =>
        Effect.gen(function*() {
          yield* proxy.clear
          const seen = (yield* proxy.exchanges).length
          yield* proxy.chaos({ seed, rate, paths: ["/dir"] })
          for (let i = 0; i < 12; i++) yield* Effect.either(request(proxy.caBundle, proxy.directoryUrl))
          yield* proxy.clear
          return (yield* proxy.exchanges).slice(seen).map((e) => e.mutation ?? "-")
        })
      const first = yield* sequence(7, 0.5)
      expect(first.filter((m) => m !== "-").length).toBeGreaterThan(0)
      expect(yield* sequence(7, 0.5)).toEqual(first)
      expect(yield* sequence(8, 0.5)).not.toEqual(first)
      expect(yield* sequence(7, 0)).toEqual(Array.from({ length: 12 }, () => "-"))
    }))
})
