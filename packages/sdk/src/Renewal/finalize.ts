/**
 * finalize: sends the CSR once the order's authorizations are valid and waits until the certificate
 * is issued.
 *
 * verify does not poll the order (its authorizations being valid makes it `ready`, RFC 8555 §7.1.6),
 * so the CA may answer `orderNotReady`: it has not moved the order yet, or (a resumed run) the order
 * was finalized before a crash. Either way the order is polled until it leaves `pending`; a `ready`
 * order is finalized then, one further along is waited for. When the order fails instead, its
 * authorizations are fetched to say which name failed and why.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type { AccountRef } from "../Account.js"
import type { OrderFailed } from "../AcmeError.js"
import * as Authorization from "../Authorization.js"
import { AcmeProtocol } from "../AcmeProtocol.js"
import type { Order } from "../Order.js"
import type { AuthorizationState } from "../RenewalState.js"
import * as Stage from "./stage.js"

/** Says which name failed, and why (the order's own error is often generic): the first authorization that is not valid, with its challenge's error. */
const whichFailed = (
  signed: Stage.Step["signed"],
  account: AccountRef,
  authorizations: ReadonlyArray<AuthorizationState>,
  failed: OrderFailed
) =>
  Effect.gen(function*() {
    const acme = yield* AcmeProtocol
    for (const authorization of authorizations) {
      const fetched = yield* signed((nonce) => acme.getAuthorization({ nonce, account, url: authorization.url }))
      if (fetched.status !== "valid") return yield* Authorization.failure(fetched)
    }
    return yield* failed
  })

/**
 * @since 0.1.0
 * @category stages
 */
export const finalize = Stage.make(({ account: accountOf, bucket, csrOf, signed }) =>
  Effect.gen(function*() {
    const acme = yield* AcmeProtocol
    const account = yield* accountOf
    const saved = bucket.order
    const csrPem = bucket.csrPem
    if (saved === undefined || csrPem === undefined) return { stage: saved === undefined ? "order" : "csr" } as const

    // where the order is: as saved, then as the CA answers
    let order: { readonly status: string; readonly certificate?: string | undefined } = saved
    if (order.status === "ready" || order.status === "pending") {
      const csr = yield* csrOf(csrPem)
      const ready: Order = {
        url: saved.url,
        status: "ready",
        finalize: saved.finalize,
        identifiers: bucket.identifiers,
        authorizations: saved.authorizations.map((a) => a.url)
      }
      const send = signed((nonce) => acme.finalize({ nonce, account, order: ready, csr }))
      order = yield* send.pipe(
        Effect.catchTag("OrderNotReady", () =>
          signed((nonce) => acme.pollOrder({ nonce, account, url: saved.url, until: "ready" })).pipe(
            Effect.catchTag("OrderFailed", (failed) => whichFailed(signed, account, saved.authorizations, failed)),
            // ready now: finalize; further along (finalized before a crash): wait for it below
            Effect.flatMap((polled) => polled.status === "ready" ? send : Effect.succeed(polled))
          ))
      )
    }
    if (order.status !== "valid" || order.certificate === undefined) {
      order = yield* signed((nonce) => acme.pollOrder({ nonce, account, url: saved.url, until: "valid" }))
    }
    return { order: { ...saved, status: order.status, certificate: order.certificate }, stage: "download" } as const
  })
)
