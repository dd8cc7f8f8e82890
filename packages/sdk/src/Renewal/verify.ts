/**
 * verify: tells the CA the responses are in place, waits for the order to become ready (one
 * poll of the order rather than one per authorization), and cleans up every presented response,
 * whether validation succeeded or not. When the order fails, the failed authorization is fetched to
 * say which name failed and why.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { AuthorizationFailed, type ProtocolError } from "../AcmeError.js"
import { AcmeProtocol } from "../AcmeProtocol.js"
import { type ChallengeError, ChallengeSolver, type ChallengeTask } from "../ChallengeSolver.js"
import type { State } from "../RenewalState.js"
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
  updateCurrent,
  withErrorNonce
} from "./context.js"
import { taskOf } from "./present.js"

/**
 * @since 0.1.0
 * @category stages
 */
export const verify = (
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

    const pending = order.authorizations.filter((a) => a.presented)
    const tasks = pending
      .map((a) => taskOf(spec.name, a, spec.challenge, account.key.thumbprint))
      .filter((task): task is ChallengeTask => task !== undefined)

    let next = state
    const work = Effect.gen(function*() {
      for (const authorization of pending) {
        if (authorization.challengeUrl === undefined) continue
        const responded = yield* acme.respondToChallenge({
          nonce: yield* nonceFor(next, directory),
          account,
          url: authorization.challengeUrl
        })
        next = threadNonce(next, responded)[1]
      }
      if (pending.length === 0 && order.status !== "pending") return order.status
      const ready = yield* acme.pollOrder({
        nonce: yield* nonceFor(next, directory),
        account,
        url: order.url,
        until: "ready"
      }).pipe(
        Effect.catchTag("OrderFailed", (failed) =>
          Effect.gen(function*() {
            // say which name failed, and why: the order's own error is often generic
            next = withErrorNonce(next, failed)
            for (const authorization of pending) {
              const fetched = yield* acme.getAuthorization({
                nonce: yield* nonceFor(next, directory),
                account,
                url: authorization.url
              })
              next = threadNonce(next, fetched)[1]
              const challenge = fetched.value.challenges.find((c) => c.type === authorization.challengeType)
              if (fetched.value.status !== "valid") {
                return yield* new AuthorizationFailed({
                  url: authorization.url,
                  identifier: fetched.value.identifier.value,
                  status: fetched.value.status,
                  challengeType: authorization.challengeType,
                  problemType: challenge?.error?.type,
                  detail: challenge?.error?.detail
                })
              }
            }
            return yield* failed
          }))
      )
      next = threadNonce(next, ready)[1]
      return ready.value.status
    })
    const status = yield* work.pipe(Effect.ensuring(Effect.forEach(tasks, solver.cleanup, { discard: true })))
    return updateCurrent(next, (b) => ({
      ...b,
      order: {
        ...order,
        status,
        authorizations: order.authorizations.map((a) => ({ ...a, status: "valid", presented: false }))
      },
      stage: "csr"
    }))
  })
