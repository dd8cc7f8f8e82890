import * as net from "node:net"
import { AcmeError, AcmeProtocol, Authorization } from "@acme/sdk"
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Fiber, TestClock } from "effect"
import {
  accountRef,
  BASE,
  directoryBody,
  fakeCa,
  json,
  problem,
  someNonce,
  withBasics
} from "./support/fakeCa.js"

const pendingAuthz = {
  identifier: { type: "dns", value: "odd.example.test" },
  status: "pending",
  challenges: [{ type: "foo-01", url: `${BASE}/chall/1`, status: "pending", token: "tok" }]
}

describe("bad input from the CA gets a typed error", () => {
  it.effect("a directory without newNonce is a MalformedDirectory that names the field", () =>
    Effect.gen(function*() {
      const { acme } = yield* fakeCa(() => json({ newAccount: `${BASE}/a`, newOrder: `${BASE}/o` }))
      const error = yield* Effect.flip(acme.directory)
      expect(error._tag).toBe("InvalidResponse")
      expect(error._tag === "InvalidResponse" && error.reason).toBe("MalformedDirectory")
      expect(error.message).toContain("newNonce")
      expect(error.message).not.toContain("\n")
    }))

  it.effect("a directory that is not JSON is a MalformedDirectory", () =>
    Effect.gen(function*() {
      const { acme } = yield* fakeCa(() => new Response("<html>It works!</html>", { status: 200 }))
      const error = yield* Effect.flip(acme.directory)
      expect(error._tag === "InvalidResponse" && error.reason).toBe("MalformedDirectory")
    }))

  it.effect("an error answer that is not a JSON problem document is UndecodableBody with the status", () =>
    Effect.gen(function*() {
      const { acme } = yield* fakeCa(withBasics(() =>
        new Response("<html>Bad gateway config</html>", { status: 400, headers: { "replay-nonce": "eA" } })
      ))
      const error = yield* Effect.flip(acme.getOrder({ nonce: someNonce, account: yield* accountRef, url: `${BASE}/o/1` }))
      expect(error._tag).toBe("InvalidResponse")
      expect(error._tag === "InvalidResponse" && error.reason).toBe("UndecodableBody")
      expect(error._tag === "InvalidResponse" && error.status).toBe(400)
      expect(error.message).toContain("with an HTML page, not an ACME response")
    }))

  it.effect("a 5xx without a problem document is a retryable ServerError", () =>
    Effect.gen(function*() {
      const { acme } = yield* fakeCa(() => new Response("upstream down", { status: 503 }))
      const error = yield* Effect.flip(acme.directory)
      expect(error._tag).toBe("ServerError")
      expect(error.message).toContain("HTTP 503")
    }))

  it.effect("newNonce without a Replay-Nonce is MissingNonce", () =>
    Effect.gen(function*() {
      const { acme } = yield* fakeCa((request) =>
        request.method === "HEAD" ? new Response(null, { status: 200 }) : json(directoryBody)
      )
      const error = yield* Effect.flip(Effect.flatMap(acme.directory, acme.newNonce))
      expect(error._tag === "InvalidResponse" && error.reason).toBe("MissingNonce")
    }))

  it.effect("a successful signed answer without a Replay-Nonce is MissingNonce", () =>
    Effect.gen(function*() {
      const { acme } = yield* fakeCa(withBasics(() =>
        new Response(JSON.stringify({ status: "valid" }), { status: 200, headers: { "content-type": "application/json" } })
      ))
      const error = yield* Effect.flip(acme.getAccount({ nonce: someNonce, account: yield* accountRef }))
      expect(error._tag === "InvalidResponse" && error.reason).toBe("MissingNonce")
      expect(error.message).toContain("Replay-Nonce")
    }))

  it.effect("a body larger than the limit is BodyTooLarge, announced or streamed", () =>
    Effect.gen(function*() {
      const announced = yield* fakeCa(() =>
        new Response("x".repeat(5000), { status: 200, headers: { "content-length": "5000" } }), { maxBodyBytes: 1000 })
      const a = yield* Effect.flip(announced.acme.directory)
      expect(a._tag === "InvalidResponse" && a.reason).toBe("BodyTooLarge")

      const streamed = yield* fakeCa(() => {
        const chunk = new TextEncoder().encode("y".repeat(400))
        let sent = 0
        const body = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (sent++ < 10) controller.enqueue(chunk)
            else controller.close()
          }
        })
        return new Response(body, { status: 200 })
      }, { maxBodyBytes: 1000 })
      const b = yield* Effect.flip(streamed.acme.directory)
      expect(b._tag === "InvalidResponse" && b.reason).toBe("BodyTooLarge")
      expect(b.message).toContain("1000 bytes")
    }))

  it.live("a body cut short by the server is TruncatedBody", () =>
    Effect.gen(function*() {
      const server = net.createServer((socket) => {
        socket.once("data", () => {
          socket.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{\"newNonce\": \"h")
          socket.destroy()
        })
      })
      const port = yield* Effect.async<number>((resume) => {
        server.listen(0, "127.0.0.1", () => {
          const address = server.address()
          resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 0))
        })
      })
      const acme = yield* AcmeProtocol.make({ directoryUrl: `http://127.0.0.1:${port}/directory` })
      const error = yield* Effect.flip(acme.directory).pipe(Effect.ensuring(Effect.sync(() => server.close())))
      expect(error._tag).toBe("InvalidResponse")
      expect(error._tag === "InvalidResponse" && error.reason).toBe("TruncatedBody")
      expect(error.message).toContain("before the whole body arrived")
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))

  it.effect("an http:// link from an https:// CA is refused as InsecureUrl", () =>
    Effect.gen(function*() {
      const fromDirectory = yield* fakeCa(() => json({ ...directoryBody, newNonce: "http://ca.test/nonce" }))
      const a = yield* Effect.flip(fromDirectory.acme.directory)
      expect(a._tag === "InvalidResponse" && a.reason).toBe("InsecureUrl")
      expect(a.message).toContain("http://ca.test/nonce")

      const fromLocation = yield* fakeCa(withBasics(() =>
        json({
          status: "pending",
          identifiers: [{ type: "dns", value: "a.example.test" }],
          authorizations: ["http://ca.test/authz/1"],
          finalize: `${BASE}/finalize/1`
        }, { status: 201, headers: { location: `${BASE}/order/1` } })
      ))
      const directory = yield* fromLocation.acme.directory
      const b = yield* Effect.flip(fromLocation.acme.newOrder({
        directory,
        nonce: someNonce,
        account: yield* accountRef,
        order: { identifiers: [{ type: "dns", value: "a.example.test" }] }
      }))
      expect(b._tag === "InvalidResponse" && b.reason).toBe("InsecureUrl")
      // and nothing was sent to the insecure URL
      expect((yield* fromLocation.requests).some((r) => r.url.startsWith("http:"))).toBe(false)
    }))

  it.effect("a link to another origin (host or port) is refused as ForeignUrl, and nothing is sent there", () =>
    Effect.gen(function*() {
      for (const foreign of ["https://elsewhere.test/nonce", "https://ca.test:8443/nonce", "https://CA.test.evil/nonce"]) {
        const { acme, requests } = yield* fakeCa(() => json({ ...directoryBody, newNonce: foreign }))
        const error = yield* Effect.flip(acme.directory)
        expect(error._tag === "InvalidResponse" && error.reason, foreign).toBe("ForeignUrl")
        expect(error.message).toContain(foreign)
        expect(error.message).toMatch(/; requests go to the CA's own origin only; check the directory URL$/)
        expect((yield* requests).map((r) => r.url)).toEqual([`${BASE}/directory`])
      }
      // the same origin written differently (default port, case) is the same origin
      const same = yield* fakeCa(() => json({ ...directoryBody, newNonce: "https://CA.test:443/nonce" }))
      expect((yield* same.acme.directory).newNonce).toBe("https://CA.test:443/nonce")
    }))

  it.effect("badNonce answers without a Replay-Nonce: one fresh nonce, then a typed error, not 40 retries", () =>
    Effect.gen(function*() {
      const { acme, requests } = yield* fakeCa(withBasics(() =>
        new Response(JSON.stringify({ type: "urn:ietf:params:acme:error:badNonce", detail: "stale" }), {
          status: 400,
          headers: { "content-type": "application/problem+json" }
        })
      ))
      const error = yield* Effect.flip(acme.getAccount({ nonce: someNonce, account: yield* accountRef }))
      expect(error._tag === "InvalidResponse" && error.reason).toBe("ContradictsProtocol")
      expect(error.message).toContain("RFC 8555 §6.5")
      expect((yield* requests).filter((r) => r.method === "POST")).toHaveLength(2)
      expect((yield* requests).filter((r) => r.method === "HEAD")).toHaveLength(1)
    }))

  it.effect.each([
    {
      what: "an order valid without a certificate URL",
      body: { status: "valid", identifiers: [{ type: "dns", value: "a.example.test" }], authorizations: [], finalize: `${BASE}/f/1` },
      says: "is valid but has no certificate URL (RFC 8555 §7.1.3)"
    },
    {
      what: "an order pending without authorizations",
      body: { status: "pending", identifiers: [{ type: "dns", value: "a.example.test" }], authorizations: [], finalize: `${BASE}/f/1` },
      says: "is pending but lists no authorizations to complete"
    },
    {
      what: "an order for other identifiers than asked",
      body: {
        status: "pending",
        identifiers: [{ type: "dns", value: "b.example.test" }],
        authorizations: [`${BASE}/authz/1`],
        finalize: `${BASE}/f/1`
      },
      says: "is for b.example.test, not for a.example.test as asked"
    },
    {
      what: "an order without finalize",
      body: { status: "ready", identifiers: [{ type: "dns", value: "a.example.test" }], authorizations: [`${BASE}/authz/1`] },
      says: "finalize"
    }
  ])("newOrder: $what is an InvalidResponse, final", ({ body, says }) =>
    Effect.gen(function*() {
      const { acme } = yield* fakeCa(withBasics(() => json(body, { status: 201, headers: { location: `${BASE}/order/1` } })))
      const error = yield* Effect.flip(acme.newOrder({
        directory: yield* acme.directory,
        nonce: someNonce,
        account: yield* accountRef,
        order: { identifiers: [{ type: "dns", value: "a.example.test" }] }
      }))
      expect(error._tag).toBe("InvalidResponse")
      expect(error.message).toContain(says)
      expect(AcmeError.isRetryable(error)).toBe(false)
    }))

  it.effect("an authorization valid without a valid challenge contradicts the protocol; one listing none is pre-authorized", () =>
    Effect.gen(function*() {
      const authz = (challenges: ReadonlyArray<unknown>) =>
        json({ identifier: { type: "dns", value: "a.example.test" }, status: "valid", challenges })
      const pendingChallenge = { type: "http-01", url: `${BASE}/chall/1`, status: "pending", token: "t" }
      const bad = yield* fakeCa(withBasics(() => authz([pendingChallenge])))
      const error = yield* Effect.flip(bad.acme.getAuthorization({ nonce: someNonce, account: yield* accountRef, url: `${BASE}/authz/1` }))
      expect(error._tag === "InvalidResponse" && error.reason).toBe("ContradictsProtocol")
      expect(error.message).toContain("is valid but none of its challenges is (RFC 8555 §7.1.4)")
      const preAuthorized = yield* fakeCa(withBasics(() => authz([])))
      const ok = yield* preAuthorized.acme.getAuthorization({ nonce: someNonce, account: yield* accountRef, url: `${BASE}/authz/1` })
      expect(ok.value.status).toBe("valid")
    }))

  it.effect("polling an authorization stops at once when its challenge failed, even if the CA leaves it pending", () =>
    Effect.gen(function*() {
      const failed = json({
        identifier: { type: "dns", value: "a.example.test" },
        status: "pending",
        challenges: [{
          type: "dns-01",
          url: `${BASE}/chall/1`,
          status: "invalid",
          token: "t",
          error: {
            type: "urn:ietf:params:acme:error:dns",
            detail: "no TXT record",
            subproblems: [{ type: "urn:ietf:params:acme:error:dns", detail: "NXDOMAIN", identifier: { type: "dns", value: "a.example.test" } }]
          }
        }]
      })
      const { acme, requests } = yield* fakeCa(withBasics(() => failed))
      const error = yield* Effect.flip(acme.pollAuthorization({ nonce: someNonce, account: yield* accountRef, url: `${BASE}/authz/1` }))
      expect(error._tag).toBe("AuthorizationFailed")
      expect(error.message).toContain("validation of a.example.test by dns-01 failed (authorization pending, its challenge invalid): dns no TXT record (a.example.test: dns NXDOMAIN)")
      expect((yield* requests).filter((r) => r.method === "POST")).toHaveLength(1)
    }))

  it.effect("an unknown challenge type decodes, and asking for a supported one is ChallengeUnavailable", () =>
    Effect.gen(function*() {
      const { acme } = yield* fakeCa(withBasics(() => json(pendingAuthz)))
      const authz = yield* acme.getAuthorization({ nonce: someNonce, account: yield* accountRef, url: `${BASE}/authz/1` })
      expect(authz.value.challenges.map((c) => c.type)).toEqual(["foo-01"])
      const error = yield* Effect.flip(Authorization.selectChallenge(authz.value, "http-01"))
      expect(error._tag).toBe("ChallengeUnavailable")
      expect(error.offered).toEqual(["foo-01"])
      // a type the CA offers but this client cannot answer is unavailable too
      const unsupported = yield* Effect.flip(Authorization.selectChallenge(authz.value, "foo-01"))
      expect(unsupported._tag).toBe("ChallengeUnavailable")
    }))

  it.effect("an order status outside RFC 8555 is treated as invalid", () =>
    Effect.gen(function*() {
      const { acme } = yield* fakeCa(withBasics(() =>
        json({ status: "weird", identifiers: [], authorizations: [], finalize: `${BASE}/f` })
      ))
      const order = yield* acme.getOrder({ nonce: someNonce, account: yield* accountRef, url: `${BASE}/o/1` })
      expect(order.value.status).toBe("invalid")
    }))

  it.effect("rateLimited carries the parsed Retry-After, in seconds or as an HTTP date", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2026-11-23T12:00:00Z"))
      const seconds = yield* fakeCa(() => problem(429, "rateLimited", "too many certificates", { "retry-after": "120" }))
      const a = yield* Effect.flip(seconds.acme.directory)
      expect(a._tag).toBe("RateLimited")
      expect(a._tag === "RateLimited" && a.retryAfter && Duration.toSeconds(a.retryAfter)).toBe(120)
      expect(a.message).toContain("retry after 2m")

      const date = yield* fakeCa(() =>
        problem(429, "rateLimited", "slow down", { "retry-after": "Mon, 23 Nov 2026 13:30:00 GMT" })
      )
      const b = yield* Effect.flip(date.acme.directory)
      expect(b._tag === "RateLimited" && b.retryAfter && Duration.toMinutes(b.retryAfter)).toBe(90)
    }))

  it.effect("problem types map to their own tags; subproblems are named in the message", () =>
    Effect.gen(function*() {
      const compound = yield* fakeCa(() =>
        new Response(
          JSON.stringify({
            type: "urn:ietf:params:acme:error:compound",
            detail: "several names were refused",
            subproblems: [
              {
                type: "urn:ietf:params:acme:error:rejectedIdentifier",
                detail: "blocked",
                identifier: { type: "dns", value: "bad.example" }
              },
              { type: "urn:ietf:params:acme:error:caa", identifier: { type: "dns", value: "caa.example" } }
            ]
          }),
          { status: 403, headers: { "content-type": "application/problem+json" } }
        )
      )
      const error = yield* Effect.flip(compound.acme.directory)
      expect(error._tag).toBe("AcmeProblem")
      expect(error.message).toContain("bad.example: rejectedIdentifier blocked")
      expect(error.message).toContain("caa.example: caa")

      for (
        const [type, tag] of [
          ["caa", "CaaForbidden"],
          ["badCSR", "BadCsr"],
          ["alreadyReplaced", "AlreadyReplaced"],
          ["userActionRequired", "UserActionRequired"],
          ["badSignatureAlgorithm", "UnsupportedKey"],
          ["unsupportedIdentifier", "RejectedIdentifier"],
          ["serverInternal", "ServerError"],
          ["somethingNew", "AcmeProblem"]
        ] as const
      ) {
        const { acme } = yield* fakeCa(() => problem(400, type, "x"))
        expect((yield* Effect.flip(acme.directory))._tag).toBe(tag)
      }
    }))

  it.effect("badNonce is retried a bounded number of times, each time with the error's nonce", () =>
    Effect.gen(function*() {
      const { acme, requests } = yield* fakeCa(withBasics(() => problem(400, "badNonce", "stale")), {
        badNonceRetries: 3
      })
      const error = yield* Effect.flip(acme.getAccount({ nonce: someNonce, account: yield* accountRef }))
      expect(error._tag).toBe("BadNonce")
      const posts = (yield* requests).filter((r) => r.method === "POST")
      expect(posts).toHaveLength(4)
      // the error carried a nonce each time, so no newNonce request was needed
      expect((yield* requests).filter((r) => r.method === "HEAD")).toHaveLength(0)
    }))

  it.effect("an exchange that never answers times out with TransportError Timeout", () =>
    Effect.gen(function*() {
      const { acme } = yield* fakeCa(() => Effect.never, { requestTimeout: "10 seconds" })
      const fiber = yield* Effect.fork(Effect.flip(acme.directory))
      yield* TestClock.adjust("9 seconds")
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(fiber)
      expect(error._tag).toBe("TransportError")
      expect(error._tag === "TransportError" && error.reason).toBe("Timeout")
    }))

  it.live("an unreachable CA is a TransportError Connect with a one-line message", () =>
    Effect.gen(function*() {
      const port = yield* Effect.async<number>((resume) => {
        const probe = net.createServer().listen(0, "127.0.0.1", () => {
          const address = probe.address()
          probe.close(() => resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 0)))
        })
      })
      const acme = yield* AcmeProtocol.make({ directoryUrl: `https://127.0.0.1:${port}/dir` })
      const error = yield* Effect.flip(acme.directory)
      expect(error._tag).toBe("TransportError")
      expect(error._tag === "TransportError" && error.reason).toBe("Connect")
      expect(error.message).toContain(`127.0.0.1:${port}`)
      expect(error.message).toContain("ECONNREFUSED")
      expect(error.message).not.toContain("\n")
    }).pipe(Effect.provide(NodeHttpClient.layerUndici)))
})
