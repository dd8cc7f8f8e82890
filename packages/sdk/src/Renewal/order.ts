/**
 * order: places the order, or picks up the one saved in the checkpoint.
 *
 * - A saved order that is still usable (pending, ready, processing, valid) is fetched and resumed,
 *   never placed twice. An expired or invalid one is replaced by a new order.
 * - A renewal names the certificate it replaces (ARI `replaces`, RFC 9773 §5) when the CA offers
 *   ARI and the new order shares a name with the old certificate. If the CA refuses that
 *   (`alreadyReplaced`, `conflict`, or `malformed` about `replaces`), the order is placed once more
 *   without it, and the state says so. Never more than once: this is the loop other clients fall into.
 * - A profile is sent when the CA offers it; asking for one the CA does not list is an error, and a
 *   CA that lists no profiles gets none (with a warning).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type { AccountRef } from "../Account.js"
import { type ProtocolError, shortType } from "../AcmeError.js"
import { AcmeProtocol } from "../AcmeProtocol.js"
import * as Directory from "../Directory.js"
import * as Identifier from "../Identifier.js"
import type { Order } from "../Order.js"
import type { OrderState, State } from "../RenewalState.js"
import type { Storage, StorageError } from "../Storage.js"
import {
  currentBucket,
  currentSpec,
  directoryOf,
  loadAccount,
  nonceFor,
  PipelineError,
  type RenewalSettings,
  threadNonce,
  updateCurrent,
  withErrorNonce
} from "./context.js"

const toOrderState = (order: Order, previous?: OrderState): OrderState => ({
  url: order.url,
  status: order.status,
  finalize: order.finalize,
  certificate: order.certificate,
  expires: order.expires,
  authorizations: order.authorizations.map((url) =>
    previous?.authorizations.find((a) => a.url === url) ?? {
      url,
      identifier: { type: "unknown", value: "" },
      status: "unknown",
      presented: false
    }
  ),
  replaces: previous?.replaces ?? order.replaces,
  replacesDropped: previous?.replacesDropped ?? false
})

/** Whether the CA refused the order because of `replaces` (and would accept it without). */
const refusedReplaces = (error: ProtocolError): boolean => {
  switch (error._tag) {
    case "AlreadyReplaced":
      return true
    case "AcmeProblem":
      return shortType(error.type) === "conflict"
    case "Malformed":
      return /replace|\bari\b|certid/i.test(error.detail ?? "")
    default:
      return false
  }
}

interface Resumed {
  readonly state: State
  /** the saved order, refreshed, when it can go on; undefined when a new one is needed */
  readonly order: OrderState | undefined
}

const resume = (
  state: State,
  account: AccountRef,
  saved: OrderState
): Effect.Effect<Resumed, ProtocolError, AcmeProtocol> =>
  Effect.gen(function*() {
    const acme = yield* AcmeProtocol
    const directory = yield* directoryOf(state)
    const gone = (error: ProtocolError): Effect.Effect<Resumed> =>
      Effect.as(
        Effect.logInfo(`${state.current}: the saved order ${saved.url} is gone (${error.message}); placing a new one`),
        { state: withErrorNonce(state, error), order: undefined }
      )
    return yield* acme.getOrder({ nonce: yield* nonceFor(state, directory), account, url: saved.url }).pipe(
      Effect.flatMap((signed): Effect.Effect<Resumed> => {
        const [order, next] = threadNonce(state, signed)
        return order.status === "invalid"
          ? Effect.as(Effect.logInfo(`${state.current}: the saved order ${saved.url} is invalid; placing a new one`), {
            state: next,
            order: undefined
          })
          : Effect.as(Effect.logInfo(`${state.current}: resuming order ${saved.url} (${order.status})`), {
            state: next,
            order: toOrderState(order, saved)
          })
      }),
      Effect.catchTags({ Unauthorized: gone, Malformed: gone, AcmeProblem: gone })
    )
  })

/**
 * @since 0.1.0
 * @category stages
 */
export const order = (
  state: State
): Effect.Effect<State, ProtocolError | StorageError | PipelineError, AcmeProtocol | Storage | RenewalSettings> =>
  Effect.gen(function*() {
    const acme = yield* AcmeProtocol
    const spec = yield* currentSpec(state)
    const account = yield* loadAccount(state)
    const directory = yield* directoryOf(state)
    const bucket = currentBucket(state)
    let next = state

    if (bucket.order !== undefined) {
      const resumed = yield* resume(next, account, bucket.order)
      const saved = resumed.order
      if (saved !== undefined) return updateCurrent(resumed.state, (b) => ({ ...b, order: saved, stage: "present" }))
      next = resumed.state
    }

    // profile: only when the CA offers profiles, and only one it offers
    const offered = Directory.profiles(directory)
    let profile = spec.profile
    if (profile !== undefined && offered.length === 0) {
      yield* Effect.logWarning(`${spec.name}: the CA offers no profiles; ordering without profile "${profile}"`)
      profile = undefined
    } else if (profile !== undefined && !offered.includes(profile)) {
      return yield* new PipelineError({
        reason: "ProfileUnavailable",
        certificate: spec.name,
        description: `the CA does not offer the profile "${profile}" (it offers ${offered.join(", ")}); change certificates[].profile`
      })
    }

    // ARI replaces: the CA must offer ARI, and the new order must share a name with the old certificate
    const candidate = bucket.decision?.replaces
    const overlaps = bucket.current?.identifiers.some((old) => bucket.identifiers.some((id) => Identifier.equals(id, old)))
    const replaces = candidate !== undefined && Directory.supportsRenewalInfo(directory) && overlaps === true
      ? candidate
      : undefined

    const placed = yield* Effect.either(
      Effect.flatMap(nonceFor(next, directory), (nonce) =>
        acme.newOrder({
          directory,
          nonce,
          account,
          order: { identifiers: bucket.identifiers, profile, replaces }
        }))
    )
    if (placed._tag === "Right") {
      const [value, threaded] = threadNonce(next, placed.right)
      const refused = bucket.decision?.replacesRefused
      return updateCurrent(threaded, (b) => ({
        ...b,
        order: { ...toOrderState(value), replaces: replaces ?? candidate, replacesDropped: refused !== undefined },
        stage: "present"
      }))
    }
    const error = placed.left
    if (replaces === undefined || !refusedReplaces(error)) return yield* error
    // the CA will not record this order as the replacement: go on without `replaces`. The refusal is
    // kept in the state, so that no later attempt sends it again: one retry, never a loop.
    yield* Effect.logWarning(
      `${spec.name}: the CA refused to record this order as replacing ${replaces} (${error.message}); ordering again without replaces`
    )
    return updateCurrent(withErrorNonce(next, error), (b) => ({
      ...b,
      decision: b.decision === undefined
        ? undefined
        : { ...b.decision, replaces: undefined, replacesRefused: `${error._tag}: ${error.message}` },
      stage: "order"
    }))
  })
