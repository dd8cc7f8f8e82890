/**
 * Requests to the CA per certificate, against Pebble: every request is one the protocol needs. A run
 * of new single-name certificates costs one directory GET and one newNonce, then per certificate:
 * newOrder, the authorization, the challenge, the authorization until valid, finalize, the order
 * until valid, the certificate. The order is not polled before finalize (its authorizations being
 * valid makes it ready, RFC 8555 §7.1.6); a CA that has not moved the order yet answers finalize with
 * `orderNotReady`, and the order is polled until ready, then finalized.
 */
import { Pebble } from "@acme/testing"
import { Renewal } from "@acme/sdk"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { clearFaults, inject, requests } from "./support/acme.js"
import { type CertificateInput, pipelineServices, settingsLayer } from "./support/pipeline.js"

/** the endpoint of a request, as Pebble names its paths: "POST /authZ", "HEAD /nonce-plz", ... */
const endpointOf = (request: { readonly method: string; readonly url: string }) =>
  `${request.method} /${new URL(request.url).pathname.split("/")[1] ?? ""}`

/** a poll answered "not yet" and asked again is one step of the sequence */
const collapsePolls = (endpoints: ReadonlyArray<string>) => endpoints.filter((e, i) => e !== endpoints[i - 1])

layer(pipelineServices().pipe(Layer.provideMerge(Pebble.layer())), { excludeTestServices: true })(
  "requests to the CA per certificate",
  (it) => {
    it.effect("one order, two authorization fetches, one challenge, finalize, one order poll, the certificate", () =>
      Effect.gen(function*() {
        // the account first, so that the measured run uses an existing one (as a cron run does)
        yield* Renewal.renew().pipe(Effect.provide(settingsLayer([
          { name: "rt-account", domains: ["account.round-trips.example.test"], challenge: "http-01" }
        ])))
        const certificates: ReadonlyArray<CertificateInput> = ["a", "b", "c"].map((n) => ({
          name: `rt-${n}`,
          domains: [`${n}.round-trips.example.test`],
          challenge: "http-01"
        }))
        const before = (yield* requests).length
        const report = yield* Renewal.renew().pipe(Effect.provide(settingsLayer(certificates)))
        expect(report.certificates.map((c) => c.action)).toEqual(["renewed", "renewed", "renewed"])
        const sent = (yield* requests).slice(before).map(endpointOf)

        // the run's start: the directory once, one nonce; the account is looked up by no request
        expect(sent.slice(0, 2)).toEqual(["GET /dir", "HEAD /nonce-plz"])
        const perCertificate = collapsePolls(sent.slice(2))
        const one = [
          "POST /order-plz",
          "POST /authZ",
          "POST /chalZ",
          "POST /authZ",
          "POST /finalize-order",
          "POST /my-order",
          "POST /certZ"
        ]
        expect(perCertificate).toEqual([...one, ...one, ...one])
        // no order poll before finalize
        const orderPollBeforeFinalize = sent.some((e, i) => e === "POST /my-order" && sent[i + 1] === "POST /finalize-order")
        expect(orderPollBeforeFinalize).toBe(false)
      }))

    it.effect("a CA whose order lags behind its authorizations: orderNotReady, the order polled until ready, finalize again", () =>
      Effect.gen(function*() {
        yield* inject({
          method: "POST",
          url: (url) => url.includes("/finalize-order/"),
          times: 1,
          respond: () =>
            new Response(
              JSON.stringify({ type: "urn:ietf:params:acme:error:orderNotReady", detail: "order is pending", status: 403 }),
              { status: 403, headers: { "content-type": "application/problem+json" } }
            )
        })
        const before = (yield* requests).length
        const report = yield* Renewal.renew().pipe(Effect.provide(settingsLayer([
          { name: "rt-lag", domains: ["lag.round-trips.example.test"], challenge: "http-01" }
        ])))
        yield* clearFaults
        const result = report.certificates[0]
        expect(result?.action, result?.reason).toBe("renewed")
        // in the same attempt, without a wait of the error handler
        expect(result?.attempts ?? 0).toBeLessThanOrEqual(1)
        const sent = collapsePolls((yield* requests).slice(before).map(endpointOf))
        const from = sent.indexOf("POST /finalize-order")
        expect(sent.slice(from)).toEqual([
          "POST /finalize-order",
          // the injected refusal carries no Replay-Nonce (a CA's would)
          "HEAD /nonce-plz",
          "POST /my-order",
          "POST /finalize-order",
          "POST /my-order",
          "POST /certZ"
        ])
      }))
  }
)
