/**
 * present: fetches each authorization of the order and puts the configured challenge's response in
 * place (through the ChallengeSolver) for those still pending. Authorizations the CA already holds
 * as valid cost one request and no challenge. If presenting fails, what was presented is cleaned up.
 *
 * An authorization that failed for good (invalid, deactivated, expired, revoked, or with an invalid
 * challenge) ends the attempt at once with the challenge's own error; one for a name the order does
 * not have contradicts the protocol (`InvalidResponse`).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type { AccountRef } from "../Account.js"
import { InvalidResponse } from "../AcmeError.js"
import * as Authorization from "../Authorization.js"
import { AcmeProtocol } from "../AcmeProtocol.js"
import { ChallengeSolver, type ChallengeTask } from "../ChallengeSolver.js"
import * as ChallengeResponse from "../ChallengeResponse.js"
import * as Identifier from "../Identifier.js"
import type { AuthorizationState } from "../RenewalState.js"
import { currentSpec } from "./context.js"
import * as Stage from "./stage.js"

/**
 * The challenge task of a presented authorization, for cleanup.
 *
 * @since 0.1.0
 * @category combinators
 */
export const taskOf = (
  certificate: string,
  authorization: AuthorizationState,
  config: ChallengeTask["config"],
  account: AccountRef
): ChallengeTask | undefined =>
  authorization.token !== undefined && Authorization.isSupportedChallengeType(authorization.challengeType)
    ? {
      certificate,
      identifier: authorization.identifier,
      type: authorization.challengeType,
      token: authorization.token,
      keyAuthorization: ChallengeResponse.keyAuthorization(authorization.token, account.key),
      config,
      accountUrl: account.url,
      wildcard: authorization.wildcard
    }
    : undefined

/** Whether an authorization is for this identifier of the order (a wildcard's is for its base name). */
const sameName = (wanted: Identifier.Identifier, authorization: Authorization.Authorization): boolean =>
  Identifier.equals(
    wanted.value.startsWith("*.") ? { ...wanted, value: wanted.value.slice(2) } : wanted,
    authorization.identifier
  )

/**
 * @since 0.1.0
 * @category stages
 */
export const present = Stage.make(({ account: accountOf, bucket, signed, state }) =>
  Effect.gen(function*() {
    const acme = yield* AcmeProtocol
    const solver = yield* ChallengeSolver
    const spec = yield* currentSpec(state)
    const account = yield* accountOf
    const order = bucket.order
    if (order === undefined) return { stage: "order" } as const

    const presented: Array<ChallengeTask> = []
    const authorizations = yield* Effect.forEach(order.authorizations, (saved) =>
      Effect.gen(function*() {
        const authorization = yield* signed((nonce) => acme.getAuthorization({ nonce, account, url: saved.url }))
        const { identifier, status, wildcard } = authorization
        if (!bucket.identifiers.some((wanted) => sameName(wanted, authorization))) {
          return yield* new InvalidResponse({
            reason: "ContradictsProtocol",
            method: "POST",
            url: saved.url,
            description: `the authorization is for ${identifier.value}, which the order ${order.url} does not name (RFC 8555 §7.1.4)`
          })
        }
        const outcome = Authorization.outcome(authorization)
        if (outcome === "failed") return yield* Authorization.failure(authorization)
        if (outcome === "valid") return { url: saved.url, identifier, status, wildcard, presented: false }
        // the configured type only: a CA offering several is never answered with another
        const challenge = yield* Authorization.selectChallenge(authorization, spec.challenge.type)
        const token = challenge.token ?? ""
        const task: ChallengeTask = {
          certificate: spec.name,
          identifier,
          type: challenge.type,
          token,
          keyAuthorization: ChallengeResponse.keyAuthorization(token, account.key),
          config: spec.challenge,
          accountUrl: account.url,
          wildcard
        }
        yield* solver.present(task)
        presented.push(task)
        return {
          url: saved.url,
          identifier,
          status,
          wildcard,
          challengeType: challenge.type,
          challengeUrl: challenge.url,
          token,
          presented: true
        }
      })).pipe(Effect.onError(() => Effect.forEach(presented, solver.cleanup, { discard: true })))
    return { order: { ...order, authorizations }, stage: "verify" } as const
  })
)
