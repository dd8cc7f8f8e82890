/**
 * A scripted HTTP transport for the answers a real CA never gives on purpose (malformed bodies,
 * missing headers, truncated or oversized responses, insecure links). Protocol behaviour is tested
 * against Pebble; this only feeds the client the bad input it must refuse.
 */
import { AccountKey, AcmeProtocol, Nonce } from "@acme/sdk"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { Effect, Layer, Ref, Schema } from "effect"

export const BASE = "https://ca.test"

export const directoryBody = {
  newNonce: `${BASE}/nonce`,
  newAccount: `${BASE}/account`,
  newOrder: `${BASE}/order`,
  revokeCert: `${BASE}/revoke`,
  keyChange: `${BASE}/key-change`
}

export interface FakeRequest {
  readonly method: string
  readonly url: string
}

export type Handler = (request: FakeRequest, index: number) => Response | Effect.Effect<Response>

export const json = (body: unknown, init: ResponseInit = {}): Response =>
  new Response(JSON.stringify(body), {
    ...init,
    headers: { "content-type": "application/json", "replay-nonce": "bm9uY2U", ...init.headers }
  })

export const problem = (status: number, type: string, detail: string, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ type: `urn:ietf:params:acme:error:${type}`, detail }), {
    status,
    headers: { "content-type": "application/problem+json", "replay-nonce": `cmV0cnk${status}`, ...headers }
  })

/** The usual answers for directory and nonce, so that a handler only scripts what it tests. */
export const withBasics = (handler: Handler): Handler => (request, index) => {
  if (request.url === BASE + "/directory") return json(directoryBody)
  if (request.method === "HEAD" && request.url === directoryBody.newNonce) {
    return new Response(null, { status: 200, headers: { "replay-nonce": "Zmlyc3Q" } })
  }
  return handler(request, index)
}

/** An AcmeProtocol over the scripted transport, and the list of requests it made. */
export const fakeCa = (handler: Handler, options: Partial<AcmeProtocol.AcmeProtocol.Options> = {}) =>
  Effect.gen(function*() {
    const seen = yield* Ref.make<ReadonlyArray<FakeRequest>>([])
    const client = HttpClient.make((request) =>
      Effect.gen(function*() {
        const entry = { method: request.method, url: request.url }
        const index = (yield* Ref.getAndUpdate(seen, (all) => [...all, entry])).length
        const answer = handler(entry, index)
        const response = Effect.isEffect(answer) ? yield* answer : answer
        return HttpClientResponse.fromWeb(request, response)
      })
    )
    const acme = yield* AcmeProtocol.make({ directoryUrl: `${BASE}/directory`, ...options }).pipe(
      Effect.provide(Layer.succeed(HttpClient.HttpClient, client))
    )
    return { acme, requests: Ref.get(seen) }
  })

export const someNonce: Nonce.Nonce = Schema.decodeSync(Nonce.Nonce)("c29tZQ")

export const accountRef = Effect.map(AccountKey.generate(), (key) => ({ key, url: `${BASE}/acct/1` }))
