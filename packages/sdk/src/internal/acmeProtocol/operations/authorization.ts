/**
 * Authorization operations: get one, answer its challenge, deactivate it (RFC 8555 §7.5).
 */
import * as Effect from "effect/Effect"
import { type Authorization, Challenge } from "../../../Authorization.js"
import type { Signed } from "../../../Nonce.js"
import { decodeJson } from "../../response.js"
import { expectStatus } from "../client.js"
import { decodeAuthorization } from "../resources.js"
import type { Service } from "../service.js"
import { accountSigner, type Protocol } from "../signedRequest.js"

/** @internal */
export const authorizationOperations = (
  protocol: Protocol
): Pick<Service, "getAuthorization" | "respondToChallenge" | "deactivateAuthorization"> => {
  const getAuthorization: Service["getAuthorization"] = (request) =>
    protocol.postAsGet("getAuthorization", request).pipe(
      Effect.flatMap(({ exchange, nonce }) =>
        Effect.map(
          decodeAuthorization(protocol, exchange, request.url),
          (value): Signed<Authorization> => ({ value, nonce })
        )
      ),
      Effect.withSpan("AcmeProtocol.getAuthorization")
    )

  const respondToChallenge: Service["respondToChallenge"] = Effect.fn("AcmeProtocol.respondToChallenge")(
    function*(request) {
      const url = yield* protocol.transport.checkUrl(request.url, { method: "POST", from: request.url })
      const { exchange, nonce } = yield* protocol.signedPost({
        url,
        nonce: request.nonce,
        signer: accountSigner(request.account),
        payload: {},
        operation: "respondToChallenge"
      })
      yield* expectStatus(exchange, [200])
      return { value: yield* decodeJson(exchange, Challenge), nonce }
    }
  )

  const deactivateAuthorization: Service["deactivateAuthorization"] = Effect.fn(
    "AcmeProtocol.deactivateAuthorization"
  )(function*(request) {
    const { exchange, nonce } = yield* protocol.signedPost({
      url: yield* protocol.transport.checkUrl(request.url, { method: "POST", from: request.url }),
      nonce: request.nonce,
      signer: accountSigner(request.account),
      payload: { status: "deactivated" },
      operation: "deactivateAuthorization"
    })
    yield* expectStatus(exchange, [200])
    return { value: yield* decodeAuthorization(protocol, exchange, request.url), nonce }
  })

  return { getAuthorization, respondToChallenge, deactivateAuthorization }
}
