/**
 * order: places the order, or picks up the one saved in the checkpoint.
 *
 * - A saved order that is still usable (pending, ready, processing, valid) is fetched and resumed,
 *   never placed twice. An expired or invalid one is replaced by a new order.
 * - A renewal names the certificate it replaces (ARI `replaces`, RFC 9773 §5) when the CA offers
 *   ARI and the new order shares a name with the old certificate. If the CA refuses that
 *   (`alreadyReplaced`, `conflict`, or `malformed` about `replaces`), the order is placed once more
 *   without it, in the same stage, and the state says so. Never more than once: this is the loop
 *   other clients fall into.
 * - A profile is sent when the CA offers it; asking for one the CA does not list is an error, and a
 *   CA that lists no profiles gets none (with a warning).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type { AccountRef } from "../Account.js"
import type { ProtocolError } from "../AcmeError.js"
import { AcmeProtocol } from "../AcmeProtocol.js"
import type { OrderState } from "../RenewalState.js"
import { currentSpec } from "./context.js"
import { profileFor, refusedReplaces, replacesFor, toOrderState } from "./ordering.js"
import * as Stage from "./stage.js"

/** The saved order, refreshed, when it can go on; undefined when a new one is needed. */
const resume = (step: Stage.Step, account: AccountRef, saved: OrderState) =>
  Effect.gen(function*() {
    const acme = yield* AcmeProtocol
    const name = step.bucket.name
    const gone = (error: ProtocolError) =>
      Effect.as(Effect.logInfo(`${name}: the saved order ${saved.url} is gone (${error.message}); placing a new one`), undefined)
    const order = yield* step.signed((nonce) => acme.getOrder({ nonce, account, url: saved.url })).pipe(
      Effect.catchTags({ Unauthorized: gone, Malformed: gone, AcmeProblem: gone })
    )
    if (order === undefined) return undefined
    if (order.status === "invalid") {
      yield* Effect.logInfo(`${name}: the saved order ${saved.url} is invalid; placing a new one`)
      return undefined
    }
    yield* Effect.logInfo(`${name}: resuming order ${saved.url} (${order.status})`)
    return toOrderState(order, saved)
  })

/**
 * @since 0.1.0
 * @category stages
 */
export const order = Stage.make((step) =>
  Effect.gen(function*() {
    const acme = yield* AcmeProtocol
    const spec = yield* currentSpec(step.state)
    const account = yield* step.account
    const { bucket } = step
    const resumed = bucket.order === undefined ? undefined : yield* resume(step, account, bucket.order)
    if (resumed !== undefined) return { order: resumed, stage: "present" } as const

    const directory = yield* step.directory
    const profile = yield* profileFor(spec, directory)
    const place = (replaces: string | undefined) =>
      step.signed((nonce) =>
        acme.newOrder({ directory, nonce, account, order: { identifiers: bucket.identifiers, profile, replaces } })
      )
    const replaces = replacesFor(bucket, directory)
    const placed = yield* Effect.either(place(replaces))
    if (placed._tag === "Right") {
      const order = {
        ...toOrderState(placed.right),
        replaces,
        replacesDropped: bucket.decision?.replacesRefused !== undefined
      }
      return { order, stage: "present" } as const
    }
    const error = placed.left
    if (replaces === undefined || !refusedReplaces(error)) return yield* error
    // the CA will not record this order as the replacement: place it once more, without `replaces`,
    // in this same stage (never a loop). The refusal is kept in the state, so that no later attempt
    // sends `replaces` again.
    yield* Effect.logWarning(
      `${spec.name}: the CA refused to record this order as replacing ${replaces} (${error.message}); ordering again without replaces`
    )
    const decision = bucket.decision === undefined
      ? undefined
      : { ...bucket.decision, replaces: undefined, replacesRefused: `${error._tag}: ${error.message}` }
    // kept at once: when this second order fails too, the retry goes on without `replaces`
    yield* step.keep({ decision })
    const order = { ...toOrderState(yield* place(undefined)), replaces: undefined, replacesDropped: true }
    return { order, stage: "present" } as const
  })
)
