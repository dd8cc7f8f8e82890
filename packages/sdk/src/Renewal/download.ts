/**
 * download: fetches the issued chain (the preferred one, when configured and offered) and checks
 * that it is for this order: the leaf names exactly the ordered identifiers and carries the key of
 * the CSR. The parsed chain is kept for `store` (in memory, next to the state).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { AcmeProtocol } from "../AcmeProtocol.js"
import * as Certificate from "../Certificate.js"
import * as Identifier from "../Identifier.js"
import { RenewalSettings } from "../RenewalSettings.js"
import { currentSpec, PipelineError } from "./context.js"
import * as Stage from "./stage.js"

/**
 * @since 0.1.0
 * @category stages
 */
export const download = Stage.make(({ account: accountOf, bucket, csrOf, keepChain, signed, state }) =>
  Effect.gen(function*() {
    const acme = yield* AcmeProtocol
    const settings = yield* RenewalSettings
    const spec = yield* currentSpec(state)
    const account = yield* accountOf
    const url = bucket.order?.certificate
    if (url === undefined || bucket.csrPem === undefined) return { stage: "finalize" } as const

    const preferredIssuer = spec.preferredChain ?? settings.config.ca.preferredChain
    const result = yield* signed((nonce) => acme.downloadCertificate({ nonce, account, url, preferredIssuer }))
    const leaf = Certificate.leaf(result.chain)
    const mismatch = (description: string) =>
      new PipelineError({ reason: "CertificateMismatch", certificate: spec.name, description })
    const wanted = bucket.identifiers.map(Identifier.format).sort()
    const got = leaf.identifiers.map(Identifier.format).sort()
    if (wanted.join(",") !== got.join(",")) {
      return yield* mismatch(`the CA issued a certificate for ${got.join(", ")} instead of ${wanted.join(", ")}`)
    }
    if (!(yield* Certificate.hasPublicKeyOf(leaf, yield* csrOf(bucket.csrPem)))) {
      return yield* mismatch("the CA issued a certificate for another key than the CSR's")
    }
    if (result.preferredIssuerMatched === false) {
      yield* Effect.logWarning(`${spec.name}: no chain of the CA ends at "${preferredIssuer}"; keeping the default chain`)
    }
    yield* keepChain(result.chain)
    return { chainPem: result.chain.pem, stage: "store" } as const
  })
)
