/**
 * present: fetches each authorization of the order and puts the configured challenge's response in
 * place (through the ChallengeSolver) for those still pending. Authorizations the CA already holds
 * as valid cost one request and no challenge. If presenting fails, what was presented is cleaned up.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Authorization from "../Authorization.js"
import type { ProtocolError } from "../AcmeError.js"
import { AcmeProtocol } from "../AcmeProtocol.js"
import { type ChallengeError, ChallengeSolver, type ChallengeTask } from "../ChallengeSolver.js"
import * as ChallengeResponse from "../ChallengeResponse.js"
import type { AuthorizationState, State } from "../RenewalState.js"
import type { Storage, StorageError } from "../Storage.js"
import {
  currentBucket,
  currentSpec,
  directoryOf,
  loadAccount,
  nonceFor,
  type PipelineError,
  type RenewalSettings,
  threadNonce,
  updateCurrent
} from "./context.js"

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
export const present = (
  state: State
): Effect.Effect<
  State,
  ProtocolError | StorageError | PipelineError | ChallengeError,
  AcmeProtocol | Storage | RenewalSettings | ChallengeSolver
> =>
  Effect.gen(function*() {
    const acme = yield* AcmeProtocol
    const solver = yield* ChallengeSolver
    const spec = yield* currentSpec(state)
    const account = yield* loadAccount(state)
    const directory = yield* directoryOf(state)
    const order = currentBucket(state).order
    if (order === undefined) return updateCurrent(state, (b) => ({ ...b, stage: "order" }))

    let next = state
    const presented: Array<ChallengeTask> = []
    const authorizations: Array<AuthorizationState> = []
    const work = Effect.gen(function*() {
      for (const saved of order.authorizations) {
        const fetched = yield* acme.getAuthorization({
          nonce: yield* nonceFor(next, directory),
          account,
          url: saved.url
        })
        const [authorization, threaded] = threadNonce(next, fetched)
        next = threaded
        if (authorization.status !== "pending") {
          authorizations.push({ url: saved.url, identifier: authorization.identifier, status: authorization.status, presented: false })
          continue
        }
        const challenge = yield* Authorization.selectChallenge(authorization, spec.challenge.type)
        const token = challenge.token ?? ""
        const task: ChallengeTask = {
          certificate: spec.name,
          identifier: authorization.identifier,
          type: challenge.type,
          token,
          keyAuthorization: ChallengeResponse.keyAuthorization(token, account.key),
          config: spec.challenge
        }
        yield* solver.present(task)
        presented.push(task)
        authorizations.push({
          url: saved.url,
          identifier: authorization.identifier,
          status: authorization.status,
          challengeType: challenge.type,
          challengeUrl: challenge.url,
          token,
          presented: true
        })
      }
    })
    yield* work.pipe(Effect.onError(() => Effect.forEach(presented, solver.cleanup, { discard: true })))
    return updateCurrent(next, (b) => ({
      ...b,
      order: { ...order, authorizations },
      stage: "verify"
    }))
  })
