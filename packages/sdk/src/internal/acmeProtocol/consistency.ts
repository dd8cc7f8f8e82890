/**
 * Answers that decode but contradict RFC 8555: each is an `InvalidResponse` (`ContradictsProtocol`)
 * naming the rule it breaks, final for the attempt, so that no answer of a CA can make a client go
 * round in circles (an order `valid` without a certificate URL once made finalize and download call
 * each other with no end). Final states are not contradictions: an `invalid` authorization,
 * challenge or order is its own error (`AuthorizationFailed`, `OrderFailed`).
 *
 * The rules (RFC 8555 §7.1.3, §7.1.4, §7.1.6, §7.4):
 *
 * - a `valid` order has a `certificate` URL;
 * - a `pending` order lists the authorizations to complete;
 * - an order is for the identifiers that were asked for (newOrder, finalize);
 * - finalize does not send an order back to `pending`;
 * - a `valid` authorization lists the challenge that was validated, when it lists any (a CA that
 *   validates out of band may list none: seen at CAs with pre-validated domains);
 * - an authorization is for one of the order's identifiers (checked by the pipeline, which knows them).
 */
import * as Effect from "effect/Effect"
import { InvalidResponse } from "../../AcmeError.js"
import type { Authorization } from "../../Authorization.js"
import * as Identifier from "../../Identifier.js"
import type { Order } from "../../Order.js"

/**
 * The error for an answer that contradicts the protocol.
 *
 * @internal
 */
export const contradiction = (
  context: { readonly method: string; readonly url: string; readonly status?: number | undefined },
  description: string
): InvalidResponse =>
  new InvalidResponse({
    reason: "ContradictsProtocol",
    method: context.method,
    url: context.url,
    status: context.status,
    description
  })

type Context = Parameters<typeof contradiction>[0]

/** @internal */
export const checkOrder = (context: Context, order: Order): Effect.Effect<Order, InvalidResponse> => {
  if (order.status === "valid" && order.certificate === undefined) {
    return Effect.fail(
      contradiction(context, `order ${order.url} is valid but has no certificate URL (RFC 8555 §7.1.3)`)
    )
  }
  if (order.status === "pending" && order.authorizations.length === 0) {
    return Effect.fail(
      contradiction(context, `order ${order.url} is pending but lists no authorizations to complete (RFC 8555 §7.1.3)`)
    )
  }
  return Effect.succeed(order)
}

/** @internal */
export const checkAuthorization = (
  context: Context,
  authorization: Authorization
): Effect.Effect<Authorization, InvalidResponse> =>
  authorization.status === "valid" && authorization.challenges.length > 0 &&
    !authorization.challenges.some((challenge) => challenge.status === "valid")
    ? Effect.fail(contradiction(
      context,
      `authorization ${authorization.url} for ${authorization.identifier.value} is valid but none of its challenges is (RFC 8555 §7.1.4)`
    ))
    : Effect.succeed(authorization)

const formatAll = (identifiers: ReadonlyArray<Identifier.Identifier>) => identifiers.map((i) => i.value).join(", ")

/**
 * The order is for exactly the identifiers asked for (in any order, DNS names in any case).
 *
 * @internal
 */
export const checkIdentifiers = (
  context: Context,
  order: Order,
  wanted: ReadonlyArray<Identifier.Identifier>
): Effect.Effect<Order, InvalidResponse> => {
  const same = order.identifiers.length === wanted.length &&
    wanted.every((w) => order.identifiers.some((i) => Identifier.equals(i, w))) &&
    order.identifiers.every((i) => wanted.some((w) => Identifier.equals(i, w)))
  return same ? Effect.succeed(order) : Effect.fail(contradiction(
    context,
    `order ${order.url} is for ${formatAll(order.identifiers) || "no identifiers"}, not for ${
      formatAll(wanted)
    } as asked (RFC 8555 §7.4)`
  ))
}
