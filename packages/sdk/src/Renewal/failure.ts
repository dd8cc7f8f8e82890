/**
 * What a failed stage leaves behind: the union of the errors a stage can fail with, and the record
 * of one in the bucket (`lastError`), which the error handler decides on and the checkpoint keeps.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import { isProblemError, isRetryable, type ProtocolError } from "../AcmeError.js"
import type { ChallengeError } from "../ChallengeSolver.js"
import { isNonce, type Nonce } from "../Nonce.js"
import type { ErrorRecord, Stage, State } from "../RenewalState.js"
import type { StorageError } from "../Storage.js"
import { type PipelineError, updateCurrent } from "./context.js"

/**
 * Every error a stage can fail with.
 *
 * @since 0.1.0
 * @category models
 */
export type StageError = ProtocolError | StorageError | PipelineError | ChallengeError

/**
 * The nonce a failed call came with: problem errors carry their response's `Replay-Nonce`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const nonceOf = (error: ProtocolError): Nonce | undefined =>
  isProblemError(error) && isNonce(error.nonce) ? error.nonce : undefined

/**
 * Whether trying again later can help: for the CA's failures, rate limits, server errors, transport
 * failures, bad nonces and poll timeouts; storage, challenge and pipeline problems need a person.
 *
 * @since 0.1.0
 * @category combinators
 */
export const retryable = (error: StageError): boolean => {
  switch (error._tag) {
    case "StorageError":
    case "ChallengeError":
    case "PipelineError":
      return false
    default:
      return isRetryable(error)
  }
}

/**
 * The record of a stage's failure: its tag, message, whether it is retryable, and the CA's
 * Retry-After when a problem document came with one.
 *
 * @since 0.1.0
 * @category combinators
 */
export const describe = (error: StageError, stage: Stage, at: string): ErrorRecord => ({
  tag: error._tag,
  message: error.message,
  retryable: retryable(error),
  retryAfterMillis: isProblemError(error) && error.retryAfter !== undefined ? Duration.toMillis(error.retryAfter) : undefined,
  stage,
  at
})

/**
 * The runner's half: the error of the stage that failed goes into the current bucket (the nonce it
 * came with is there already: `signed` put it there when the call failed).
 *
 * @since 0.1.0
 * @category combinators
 */
export const recordError = (state: State, error: StageError, stage: Stage, at: string): State =>
  updateCurrent(state, (bucket) => ({ ...bucket, lastError: describe(error, stage, at) }))
