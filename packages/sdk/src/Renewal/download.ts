/**
 * download: fetches the issued chain (the preferred one, when configured and offered) and checks
 * that it is for this order: the leaf names exactly the ordered identifiers and carries the key of
 * the CSR.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type { CertificateError, CsrError, ProtocolError } from "../AcmeError.js"
import { AcmeProtocol } from "../AcmeProtocol.js"
import * as Certificate from "../Certificate.js"
import * as Csr from "../Csr.js"
import * as Identifier from "../Identifier.js"
import type { State } from "../RenewalState.js"
import type { Storage, StorageError } from "../Storage.js"
import {
  currentBucket,
  currentSpec,
  directoryOf,
  loadAccount,
  nonceFor,
  PipelineError,
  RenewalSettings,
  threadNonce,
  updateCurrent
} from "./context.js"

/**
 * @since 0.1.0
 * @category stages
 */
export const download = (
  state: State
): Effect.Effect<
  State,
  ProtocolError | StorageError | PipelineError | CsrError | CertificateError,
  AcmeProtocol | Storage | RenewalSettings
> =>
  Effect.gen(function*() {
    const acme = yield* AcmeProtocol
    const settings = yield* RenewalSettings
    const spec = yield* currentSpec(state)
    const account = yield* loadAccount(state)
    const directory = yield* directoryOf(state)
    const bucket = currentBucket(state)
    const url = bucket.order?.certificate
    if (url === undefined || bucket.csrPem === undefined) return updateCurrent(state, (b) => ({ ...b, stage: "finalize" }))

    const downloaded = yield* acme.downloadCertificate({
      nonce: yield* nonceFor(state, directory),
      account,
      url,
      preferredIssuer: spec.preferredChain ?? settings.config.ca.preferredChain
    })
    const [result, next] = threadNonce(state, downloaded)
    const leaf = Certificate.leaf(result.chain)
    const wanted = bucket.identifiers.map(Identifier.format).sort()
    const got = leaf.identifiers.map(Identifier.format).sort()
    if (wanted.join(",") !== got.join(",")) {
      return yield* new PipelineError({
        reason: "CertificateMismatch",
        certificate: spec.name,
        description: `the CA issued a certificate for ${got.join(", ")} instead of ${wanted.join(", ")}`
      })
    }
    const request = yield* Csr.fromPem(bucket.csrPem)
    if (!(yield* Certificate.hasPublicKeyOf(leaf, request))) {
      return yield* new PipelineError({
        reason: "CertificateMismatch",
        certificate: spec.name,
        description: "the CA issued a certificate for another key than the CSR's"
      })
    }
    if (result.preferredIssuerMatched === false) {
      yield* Effect.logWarning(`${spec.name}: no chain of the CA ends at "${spec.preferredChain ?? settings.config.ca.preferredChain}"; keeping the default chain`)
    }
    return updateCurrent(next, (b) => ({ ...b, chainPem: result.chain.pem, stage: "store" }))
  })
