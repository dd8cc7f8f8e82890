/**
 * ACME resources read from answers: accounts, orders and authorizations (every URL they hold
 * checked), and the errors for an order or authorization that ended badly.
 */
import * as Effect from "effect/Effect"
import { type Account, AccountBody } from "../../Account.js"
import { AuthorizationFailed, type InvalidResponse, OrderFailed } from "../../AcmeError.js"
import { type Authorization, AuthorizationBody } from "../../Authorization.js"
import { type Order, OrderBody } from "../../Order.js"
import type { Exchange } from "../exchange.js"
import { decodeJson } from "../response.js"
import type { Client } from "./client.js"

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
    return { ...body, url } satisfies Order
  })

/** @internal */
export const decodeAuthorization = (
  client: Client,
  exchange: Exchange,
  url: string
): Effect.Effect<Authorization, InvalidResponse> =>
  Effect.gen(function*() {
    const body = yield* decodeJson(exchange, AuthorizationBody)
    yield* client.checkUrls(exchange, body.challenges.map((challenge) => challenge.url))
    return { ...body, url } satisfies Authorization
  })

/** @internal */
export const authorizationFailed = (authorization: Authorization): AuthorizationFailed => {
  const failed = authorization.challenges.find((challenge) => challenge.error !== undefined) ??
    authorization.challenges.find((challenge) => challenge.status === "invalid")
  return new AuthorizationFailed({
    url: authorization.url,
    identifier: authorization.identifier.value,
    status: authorization.status,
    challengeType: failed?.type,
    problemType: failed?.error?.type,
    detail: failed?.error?.detail
  })
}

/** @internal */
export const orderFailed = (order: Order): OrderFailed =>
  new OrderFailed({
    url: order.url,
    status: order.status,
    problemType: order.error?.type,
    detail: order.error?.detail
  })
