/**
 * finalize: sends the CSR once the order is ready and waits until the certificate is issued. A
 * resumed run whose order was already finalized (the CA answers orderNotReady) just waits for it.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { AcmeProtocol } from "../AcmeProtocol.js"
import type { Order } from "../Order.js"
import * as Stage from "./stage.js"

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
      order = yield* signed((nonce) => acme.finalize({ nonce, account, order: ready, csr })).pipe(
        // already finalized before a crash: wait for the result instead
        Effect.catchTag("OrderNotReady", () => Effect.succeed({ status: "processing", certificate: saved.certificate }))
      )
    }
    if (order.status !== "valid" || order.certificate === undefined) {
      order = yield* signed((nonce) => acme.pollOrder({ nonce, account, url: saved.url, until: "valid" }))
    }
    return { order: { ...saved, status: order.status, certificate: order.certificate }, stage: "download" } as const
  })
)
