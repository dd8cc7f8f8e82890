/**
 * Polling an authorization or order until the CA is done with it (RFC 8555 §7.5.1): one
 * POST-as-GET per step, each with the nonce of the previous answer, waiting as `Waits.poll` says.
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import type { AccountRef } from "../../Account.js"
import { PollTimeout, type ProtocolError } from "../../AcmeError.js"
import type { Authorization } from "../../Authorization.js"
import type { Nonce, Signed } from "../../Nonce.js"
import type { Order } from "../../Order.js"
import * as Waits from "../../Waits.js"
import type { Exchange } from "../exchange.js"
import { retryAfter } from "../response.js"
import { authorizationFailed, decodeAuthorization, decodeOrder, orderFailed } from "./resources.js"
import type { Service } from "./service.js"
import type { Protocol } from "./signedRequest.js"

/** One step of a poll: the resource, the nonce for the next request, and when to ask again. */
interface PollStep<A> extends Waits.PollStep {
  readonly value: A
  readonly nonce: Nonce
}

/** @internal */
export interface PollOptions {
  readonly interval: Duration.Duration
  readonly maxInterval: Duration.Duration
  readonly timeout: Duration.Duration
}

/** @internal */
export const pollOperations = (
  protocol: Protocol,
  options: PollOptions
): Pick<Service, "pollAuthorization" | "pollOrder"> => {
  /** Polls with POST-as-GET until `done`, threading the nonce through the attempts. */
  const poll = <A extends { readonly status: string }>(request: {
    readonly resource: "authorization" | "order"
    readonly url: string
    readonly nonce: Nonce
    readonly timeout: Duration.Duration
    readonly fetch: (
      nonce: Nonce
    ) => Effect.Effect<{ readonly value: A; readonly nonce: Nonce; readonly exchange: Exchange }, ProtocolError>
    readonly done: (value: A) => boolean
  }): Effect.Effect<Signed<A>, ProtocolError> =>
    Effect.gen(function*() {
      const start = yield* Clock.currentTimeMillis
      const current = yield* Ref.make(request.nonce)
      const step: Effect.Effect<PollStep<A>, ProtocolError> = Effect.gen(function*() {
        const result = yield* request.fetch(yield* Ref.get(current))
        yield* Ref.set(current, result.nonce)
        return {
          value: result.value,
          nonce: result.nonce,
          retryAfter: yield* retryAfter(result.exchange.headers),
          done: request.done(result.value),
          at: yield* Clock.currentTimeMillis
        }
      })
      const last = yield* Effect.repeat(
        step,
        Waits.poll<PollStep<A>>({
          interval: options.interval,
          maxInterval: options.maxInterval,
          deadline: start + Duration.toMillis(request.timeout)
        })
      )
      if (!last.done) {
        return yield* new PollTimeout({
          url: request.url,
          resource: request.resource,
          lastStatus: last.value.status,
          waited: Duration.millis(last.at - start)
        })
      }
      return { value: last.value, nonce: last.nonce }
    })

  const fetchAuthorization = (account: AccountRef, url: string) => (nonce: Nonce) =>
    protocol.postAsGet("pollAuthorization", { nonce, account, url }).pipe(
      Effect.flatMap(({ exchange, nonce: next }) =>
        Effect.map(decodeAuthorization(protocol, exchange, url), (value) => ({ value, nonce: next, exchange }))
      )
    )

  const fetchOrder = (account: AccountRef, url: string) => (nonce: Nonce) =>
    protocol.postAsGet("pollOrder", { nonce, account, url }).pipe(
      Effect.flatMap(({ exchange, nonce: next }) =>
        Effect.map(decodeOrder(protocol, exchange, url), (value) => ({ value, nonce: next, exchange }))
      )
    )

  const timeoutOf = (timeout: Duration.DurationInput | undefined) =>
    timeout !== undefined ? Duration.decode(timeout) : options.timeout

  const pollAuthorization: Service["pollAuthorization"] = Effect.fn("AcmeProtocol.pollAuthorization")(
    function*(request) {
      const result = yield* poll<Authorization>({
        resource: "authorization",
        url: request.url,
        nonce: request.nonce,
        timeout: timeoutOf(request.timeout),
        fetch: fetchAuthorization(request.account, request.url),
        done: (authorization) => authorization.status !== "pending"
      })
      if (result.value.status !== "valid") {
        return yield* authorizationFailed(result.value)
      }
      return result
    }
  )

  const pollOrder: Service["pollOrder"] = Effect.fn("AcmeProtocol.pollOrder")(function*(request) {
    const result = yield* poll<Order>({
      resource: "order",
      url: request.url,
      nonce: request.nonce,
      timeout: timeoutOf(request.timeout),
      fetch: fetchOrder(request.account, request.url),
      done: request.until === "ready"
        ? (order) => order.status !== "pending"
        : (order) => order.status === "valid" || order.status === "invalid"
    })
    if (result.value.status === "invalid") {
      return yield* orderFailed(result.value)
    }
    return result
  })

  return { pollAuthorization, pollOrder }
}
