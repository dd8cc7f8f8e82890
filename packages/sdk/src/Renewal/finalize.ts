/**
 * finalize: sends the CSR once the order is ready and waits until the certificate is issued. A
 * resumed run whose order was already finalized (the CA answers orderNotReady) just waits for it.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type { CsrError, ProtocolError } from "../AcmeError.js"
import { AcmeProtocol } from "../AcmeProtocol.js"
import * as Csr from "../Csr.js"
import type { Order } from "../Order.js"
import type { State } from "../RenewalState.js"
import type { Storage, StorageError } from "../Storage.js"
import {
  currentBucket,
  directoryOf,
  loadAccount,
  nonceFor,
  type PipelineError,
  type RenewalSettings,
  threadNonce,
  updateCurrent,
  withErrorNonce
} from "./context.js"

/**
 * @since 0.1.0
 * @category stages
 */
export const finalize = (
  state: State
): Effect.Effect<State, ProtocolError | StorageError | PipelineError | CsrError, AcmeProtocol | Storage | RenewalSettings> =>
  Effect.gen(function*() {
    const acme = yield* AcmeProtocol
    const account = yield* loadAccount(state)
    const directory = yield* directoryOf(state)
    const bucket = currentBucket(state)
    const saved = bucket.order
    if (saved === undefined || bucket.csrPem === undefined) {
      return updateCurrent(state, (b) => ({ ...b, stage: saved === undefined ? "order" : "csr" }))
    }
    let next = state
    let status = saved.status
    let certificate = saved.certificate

    if (status === "ready" || status === "pending") {
      const request = yield* Csr.fromPem(bucket.csrPem)
      const order: Order = {
        url: saved.url,
        status: "ready",
        finalize: saved.finalize,
        identifiers: bucket.identifiers,
        authorizations: saved.authorizations.map((a) => a.url)
      }
      const finalized = yield* acme.finalize({ nonce: yield* nonceFor(next, directory), account, order, csr: request })
        .pipe(
          Effect.map((signed) => ({ signed, notReady: undefined })),
          // already finalized before a crash: wait for the result instead
          Effect.catchTag("OrderNotReady", (error) => Effect.succeed({ signed: undefined, notReady: error }))
        )
      if (finalized.signed !== undefined) {
        const [value, threaded] = threadNonce(next, finalized.signed)
        next = threaded
        status = value.status
        certificate = value.certificate
      } else {
        next = withErrorNonce(next, finalized.notReady)
        status = "processing"
      }
    }
    if (status !== "valid" || certificate === undefined) {
      const issued = yield* acme.pollOrder({
        nonce: yield* nonceFor(next, directory),
        account,
        url: saved.url,
        until: "valid"
      })
      const [value, threaded] = threadNonce(next, issued)
      next = threaded
      status = value.status
      certificate = value.certificate
    }
    return updateCurrent(next, (b) => ({
      ...b,
      order: { ...saved, status, certificate },
      stage: "download"
    }))
  })
