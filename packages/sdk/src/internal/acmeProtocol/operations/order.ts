/**
 * Order operations: newOrder, getOrder, the account's order list, and finalize (RFC 8555 §7.4).
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Csr from "../../../Csr.js"
import type { Signed } from "../../../Nonce.js"
import type { Order } from "../../../Order.js"
import { decodeJson, links } from "../../response.js"
import { expectStatus, requireLocation } from "../client.js"
import { decodeOrder, orderFailed } from "../resources.js"
import type { Service } from "../service.js"
import { accountSigner, type Protocol } from "../signedRequest.js"
import { postToAccount } from "./account.js"

const OrdersPage = Schema.Struct({ orders: Schema.Array(Schema.String) })

/** @internal */
export const orderOperations = (
  protocol: Protocol
): Pick<Service, "newOrder" | "getOrder" | "listOrders" | "finalize"> => {
  const newOrder: Service["newOrder"] = Effect.fn("AcmeProtocol.newOrder")(function*(request) {
    const order = request.order
    const payload = {
      identifiers: order.identifiers.map((identifier) => ({ type: identifier.type, value: identifier.value })),
      ...(order.notBefore !== undefined ? { notBefore: order.notBefore } : {}),
      ...(order.notAfter !== undefined ? { notAfter: order.notAfter } : {}),
      ...(order.profile !== undefined ? { profile: order.profile } : {}),
      ...(order.replaces !== undefined ? { replaces: order.replaces } : {})
    }
    const { exchange, nonce } = yield* protocol.signedPost({
      url: request.directory.newOrder,
      nonce: request.nonce,
      signer: accountSigner(request.account),
      payload,
      operation: "newOrder"
    })
    yield* expectStatus(exchange, [200, 201])
    const url = yield* requireLocation(protocol, exchange, "order")
    return { value: yield* decodeOrder(protocol, exchange, url), nonce }
  })

  const getOrder: Service["getOrder"] = (request) =>
    protocol.postAsGet("getOrder", request).pipe(
      Effect.flatMap(({ exchange, nonce }) =>
        Effect.map(decodeOrder(protocol, exchange, request.url), (value): Signed<Order> => ({ value, nonce }))
      ),
      Effect.withSpan("AcmeProtocol.getOrder")
    )

  const listOrders: Service["listOrders"] = Effect.fn("AcmeProtocol.listOrders")(function*(request) {
    const account = yield* postToAccount(protocol, "getAccount", request, undefined)
    let nonce = account.nonce
    let next = account.value.orders
    const orders: Array<string> = []
    const seen = new Set<string>()
    while (next !== undefined && !seen.has(next)) {
      seen.add(next)
      const page = yield* protocol.postAsGet("listOrders", { nonce, account: request.account, url: next })
      nonce = page.nonce
      const body = yield* decodeJson(page.exchange, OrdersPage)
      yield* protocol.checkUrls(page.exchange, body.orders)
      orders.push(...body.orders)
      next = links(page.exchange, "next")[0]
    }
    return { value: orders, nonce }
  })

  const finalize: Service["finalize"] = Effect.fn("AcmeProtocol.finalize")(function*(request) {
    const { exchange, nonce } = yield* protocol.signedPost({
      url: request.order.finalize,
      nonce: request.nonce,
      signer: accountSigner(request.account),
      payload: { csr: Csr.toBase64Url(request.csr) },
      operation: "finalize"
    })
    yield* expectStatus(exchange, [200])
    const order = yield* decodeOrder(protocol, exchange, request.order.url)
    if (order.status === "invalid") {
      return yield* orderFailed(order)
    }
    return { value: order, nonce }
  })

  return { newOrder, getOrder, listOrders, finalize }
}
