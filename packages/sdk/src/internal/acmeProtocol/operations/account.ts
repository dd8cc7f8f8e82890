/**
 * Account operations: newAccount (with EAB), POST to the account URL (get, update, deactivate),
 * and key rollover (RFC 8555 §7.3).
 */
import * as Effect from "effect/Effect"
import type { Account, AccountRef } from "../../../Account.js"
import type { ProtocolError } from "../../../AcmeError.js"
import * as Jws from "../../../Jws.js"
import type { Nonce, Signed } from "../../../Nonce.js"
import { expectStatus, requireEndpoint, requireLocation } from "../client.js"
import { decodeAccount } from "../resources.js"
import type { Service } from "../service.js"
import { accountSigner, type Protocol } from "../signedRequest.js"

/** @internal */
export const accountOperations = (
  protocol: Protocol
): Pick<Service, "newAccount" | "getAccount" | "updateAccount" | "deactivateAccount" | "changeKey"> => {
  const newAccount: Service["newAccount"] = Effect.fn("AcmeProtocol.newAccount")(function*(request) {
    const eab = request.externalAccountBinding
    const payload = {
      ...(request.contact !== undefined ? { contact: request.contact } : {}),
      ...(request.termsOfServiceAgreed !== undefined ? { termsOfServiceAgreed: request.termsOfServiceAgreed } : {}),
      ...(request.onlyReturnExisting === true ? { onlyReturnExisting: true } : {}),
      ...(eab !== undefined
        ? {
          externalAccountBinding: yield* Jws.externalAccountBinding({
            accountKey: request.key,
            keyId: eab.keyId,
            hmacKey: eab.hmacKey,
            url: request.directory.newAccount
          })
        }
        : {})
    }
    const { exchange, nonce } = yield* protocol.signedPost({
      url: request.directory.newAccount,
      nonce: request.nonce,
      signer: { key: request.key },
      payload,
      operation: "newAccount"
    })
    yield* expectStatus(exchange, [200, 201])
    const url = yield* requireLocation(protocol, exchange, "account")
    return { value: yield* decodeAccount(exchange, url), nonce }
  })

  const changeKey: Service["changeKey"] = Effect.fn("AcmeProtocol.changeKey")(function*(request) {
    const url = yield* requireEndpoint(protocol, request.directory, "keyChange")
    const inner = yield* Jws.keyChangeInner({
      oldKey: request.account.key,
      newKey: request.newKey,
      account: request.account.url,
      url
    })
    const { exchange, nonce } = yield* protocol.signedPost({
      url,
      nonce: request.nonce,
      signer: accountSigner(request.account),
      payload: inner,
      operation: "keyChange"
    })
    yield* expectStatus(exchange, [200, 204])
    return { value: { key: request.newKey, url: request.account.url }, nonce }
  })

  return {
    newAccount,
    getAccount: (request) => postToAccount(protocol, "getAccount", request, undefined),
    updateAccount: (request) => postToAccount(protocol, "updateAccount", request, { contact: request.contact }),
    deactivateAccount: (request) => postToAccount(protocol, "deactivateAccount", request, { status: "deactivated" }),
    changeKey
  }
}

/**
 * A signed POST to the account URL (get with no payload, update, deactivate).
 *
 * @internal
 */
export const postToAccount = (
  protocol: Protocol,
  operation: string,
  request: { readonly nonce: Nonce; readonly account: AccountRef },
  payload: unknown
): Effect.Effect<Signed<Account>, ProtocolError> =>
  Effect.gen(function*() {
    const { exchange, nonce } = yield* protocol.signedPost({
      url: request.account.url,
      nonce: request.nonce,
      signer: accountSigner(request.account),
      payload,
      operation
    })
    yield* expectStatus(exchange, [200])
    return { value: yield* decodeAccount(exchange, request.account.url), nonce }
  }).pipe(Effect.withSpan(`AcmeProtocol.${operation}`))
