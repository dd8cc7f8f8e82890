/**
 * The signed POST (RFC 8555 §6.2) with its badNonce rule, and POST-as-GET on top of it.
 */
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import type { AccountRef } from "../../Account.js"
import { InvalidResponse, type ProtocolError } from "../../AcmeError.js"
import * as Jws from "../../Jws.js"
import { isNonce, type Nonce } from "../../Nonce.js"
import * as Waits from "../../Waits.js"
import type { Exchange } from "../exchange.js"
import { problem } from "../problemDocument.js"
import { replayNonce } from "../response.js"
import { type Client, expectStatus } from "./client.js"

/** @internal */
export interface Signer {
  readonly key: Jws.SigningKey
  readonly kid?: string | undefined
}

/** @internal */
export const accountSigner = (account: AccountRef): Signer => ({ key: account.key, kid: account.url })

/** @internal */
export interface SignedExchange {
  readonly exchange: Exchange
  /** the answer's `Replay-Nonce`: the nonce for the caller's next request */
  readonly nonce: Nonce
}

/**
 * The client with signed requests: what every operation is built from.
 *
 * @internal
 */
export interface Protocol extends Client {
  /**
   * A signed POST. `badNonce` answers are retried at once with the nonce that came with them
   * (`Waits.badNonce`); every other error response fails with its problem, which carries the
   * response's nonce so that the caller can go on.
   */
  readonly signedPost: (request: {
    readonly url: string
    readonly nonce: Nonce
    readonly signer: Signer
    readonly payload: unknown
    readonly operation: string
    readonly accept?: string | undefined
  }) => Effect.Effect<SignedExchange, ProtocolError>
  /** POST-as-GET a resource of the account, expecting 200 */
  readonly postAsGet: (
    operation: string,
    request: { readonly nonce: Nonce; readonly account: AccountRef; readonly url: string },
    accept?: string
  ) => Effect.Effect<SignedExchange, ProtocolError>
}

/** @internal */
export const withSigning = (client: Client, options: { readonly badNonceRetries: number }): Protocol => {
  const { transport } = client

  /** A nonce when a badNonce answer came without one: directory, then newNonce. */
  const freshNonce = Effect.flatMap(client.directory, client.newNonce)

  const signedPost: Protocol["signedPost"] = (request) =>
    Effect.gen(function*() {
      const current = yield* Ref.make(request.nonce)
      const attempt = Effect.gen(function*() {
        const jws = yield* Jws.sign({
          key: request.signer.key,
          kid: request.signer.kid,
          nonce: yield* Ref.get(current),
          url: request.url,
          payload: request.payload
        })
        const exchange = yield* transport.send({
          method: "POST",
          url: request.url,
          body: JSON.stringify(jws),
          contentType: "application/jose+json",
          accept: request.accept,
          operation: request.operation
        })
        if (exchange.status >= 400) {
          const error = yield* problem(exchange)
          if (error._tag === "BadNonce") {
            yield* Ref.set(current, isNonce(error.nonce) ? error.nonce : yield* freshNonce)
          }
          return yield* Effect.fail(error)
        }
        const nonce = replayNonce(exchange)
        if (nonce === undefined) {
          return yield* new InvalidResponse({
            reason: "MissingNonce",
            method: "POST",
            url: request.url,
            status: exchange.status,
            description: "a successful POST answer must carry a Replay-Nonce header (RFC 8555 §6.5)"
          })
        }
        return { exchange, nonce }
      })
      return yield* Effect.retry(attempt, Waits.badNonce(options.badNonceRetries))
    })

  const postAsGet: Protocol["postAsGet"] = (operation, request, accept) =>
    Effect.gen(function*() {
      const url = yield* transport.checkUrl(request.url, { method: "POST", from: request.url })
      const result = yield* signedPost({
        url,
        nonce: request.nonce,
        signer: accountSigner(request.account),
        payload: undefined,
        operation,
        accept
      })
      yield* expectStatus(result.exchange, [200])
      return result
    })

  return { ...client, signedPost, postAsGet }
}
