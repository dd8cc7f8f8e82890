/**
 * present: fetches each authorization of the order and puts the configured challenge's response in
 * place (through the ChallengeSolver) for those still pending. Authorizations the CA already holds
 * as valid cost one request and no challenge. If presenting fails, what was presented is cleaned up.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Authorization from "../Authorization.js"
import { AcmeProtocol } from "../AcmeProtocol.js"
import { ChallengeSolver, type ChallengeTask } from "../ChallengeSolver.js"
import * as ChallengeResponse from "../ChallengeResponse.js"
import type { AuthorizationState } from "../RenewalState.js"
import { currentSpec, loadAccount } from "./context.js"
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
  thumbprint: string
): ChallengeTask | undefined =>
  authorization.token !== undefined && Authorization.isSupportedChallengeType(authorization.challengeType)
    ? {
      certificate,
      identifier: authorization.identifier,
      type: authorization.challengeType,
      token: authorization.token,
      keyAuthorization: ChallengeResponse.keyAuthorization(authorization.token, { thumbprint }),
      config
    }
    : undefined

/**
 * @since 0.1.0
 * @category stages
 */
export const present = Stage.make(({ bucket, signed, state }) =>
  Effect.gen(function*() {
    const acme = yield* AcmeProtocol
    const solver = yield* ChallengeSolver
    const spec = yield* currentSpec(state)
    const account = yield* loadAccount(state)
    const order = bucket.order
    if (order === undefined) return { stage: "order" } as const

    const presented: Array<ChallengeTask> = []
    const authorizations = yield* Effect.forEach(order.authorizations, (saved) =>
      Effect.gen(function*() {
        const authorization = yield* signed((nonce) => acme.getAuthorization({ nonce, account, url: saved.url }))
        const { identifier, status } = authorization
        if (status !== "pending") return { url: saved.url, identifier, status, presented: false }
        const challenge = yield* Authorization.selectChallenge(authorization, spec.challenge.type)
        const token = challenge.token ?? ""
        const task: ChallengeTask = {
          certificate: spec.name,
          identifier,
          type: challenge.type,
          token,
          keyAuthorization: ChallengeResponse.keyAuthorization(token, account.key),
          config: spec.challenge
        }
        yield* solver.present(task)
        presented.push(task)
        return { url: saved.url, identifier, status, challengeType: challenge.type, challengeUrl: challenge.url, token, presented: true }
      })).pipe(Effect.onError(() => Effect.forEach(presented, solver.cleanup, { discard: true })))
    return { order: { ...order, authorizations }, stage: "verify" } as const
  })
)
