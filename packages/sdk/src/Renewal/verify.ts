/**
 * verify: tells the CA the responses are in place, waits for each answered authorization to be
 * validated, and cleans up every presented response, whether validation succeeded or not.
 *
 * Final states are final (RFC 8555 §7.1.6): a challenge or authorization that fails ends the attempt
 * at once with the challenge's own error, even when the CA leaves the order pending (polling only the
 * order would wait out its whole poll timeout, attempt after attempt).
 *
 * The order is not polled here: once every authorization is valid the order is `ready` (RFC 8555
 * §7.1.6), so finalize is sent next, as lego and certbot do; a CA that has not moved the order yet
 * answers `orderNotReady`, and finalize then waits for the order (see there). One request per
 * certificate less than polling the order first.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Authorization from "../Authorization.js"
import { AcmeProtocol } from "../AcmeProtocol.js"
import { ChallengeSolver, type ChallengeTask } from "../ChallengeSolver.js"
import { currentSpec } from "./context.js"
import { taskOf } from "./present.js"
import * as Stage from "./stage.js"

/**
 * @since 0.1.0
 * @category stages
 */
export const verify = Stage.make((step) =>
  Effect.gen(function*() {
    const acme = yield* AcmeProtocol
    const solver = yield* ChallengeSolver
    const spec = yield* currentSpec(step.state)
    const account = yield* step.account
    const order = step.bucket.order
    if (order === undefined) return { stage: "order" } as const

    const pending = order.authorizations.filter((a) => a.presented)
    const tasks = pending
      .map((a) => taskOf(spec.name, a, spec.challenge, account))
      .filter((task): task is ChallengeTask => task !== undefined)
    const work = Effect.gen(function*() {
      for (const authorization of pending) {
        const url = authorization.challengeUrl
        if (url === undefined) continue
        const challenge = yield* step.signed((nonce) => acme.respondToChallenge({ nonce, account, url }))
        if (challenge.status === "invalid") {
          const { identifier, url: authorizationUrl } = authorization
          return yield* Authorization.failure({ url: authorizationUrl, identifier, status: "pending", challenges: [challenge] })
        }
      }
      for (const { url } of pending) yield* step.signed((nonce) => acme.pollAuthorization({ nonce, account, url }))
      // every authorization is valid: the order is ready, unless the CA already moved it further
      return order.status === "pending" ? "ready" : order.status
    })
    const status = yield* work.pipe(Effect.ensuring(Effect.forEach(tasks, solver.cleanup, { discard: true })))
    const authorizations = order.authorizations.map((a) => ({ ...a, status: "valid", presented: false }))
    return { order: { ...order, status, authorizations }, stage: "csr" } as const
  })
)
