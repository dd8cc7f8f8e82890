/**
 * ACME resources read from answers: accounts, orders and authorizations (every URL they hold
 * checked), and the errors for an order or authorization that ended badly.
 */
import * as Effect from "effect/Effect"
import { type Account, AccountBody } from "../../Account.js"
import { type InvalidResponse, OrderFailed } from "../../AcmeError.js"
import * as Authorization from "../../Authorization.js"
import { type Order, OrderBody } from "../../Order.js"
import type { Exchange } from "../exchange.js"
import { decodeJson } from "../response.js"
import type { Client } from "./client.js"
import { checkAuthorization, checkOrder } from "./consistency.js"

/** @internal */
export const decodeAccount = (exchange: Exchange, url: string): Effect.Effect<Account, InvalidResponse> =>
  Effect.map(decodeJson(exchange, AccountBody), (body): Account => ({
    url,
    status: body.status,
    contact: body.contact ?? [],
    termsOfServiceAgreed: body.termsOfServiceAgreed,
    orders: body.orders,
    created: exchange.status === 201
  }))

/** @internal */
export const decodeOrder = (client: Client, exchange: Exchange, url: string): Effect.Effect<Order, InvalidResponse> =>
  Effect.gen(function*() {
    const body = yield* decodeJson(exchange, OrderBody)
    yield* client.checkUrls(exchange, [...body.authorizations, body.finalize, body.certificate])
    return yield* checkOrder(exchange, { ...body, url } satisfies Order)
  })

/** @internal */
export const decodeAuthorization = (
  client: Client,
  exchange: Exchange,
  url: string
): Effect.Effect<Authorization.Authorization, InvalidResponse> =>
  Effect.gen(function*() {
    const body = yield* decodeJson(exchange, Authorization.AuthorizationBody)
    yield* client.checkUrls(exchange, body.challenges.map((challenge) => challenge.url))
    return yield* checkAuthorization(exchange, { ...body, url } satisfies Authorization.Authorization)
  })

/** @internal */
export const authorizationFailed = Authorization.failure

/** @internal */
export const authorizationOutcome = Authorization.outcome

/** @internal */
export const orderFailed = (order: Order): OrderFailed =>
  new OrderFailed({
    url: order.url,
    status: order.status,
    problemType: order.error?.type,
    detail: order.error?.detail
  })
