/**
 * What the order stage decides before it places an order, and how an order goes into the state:
 * the profile to ask for, the certificate to name as replaced (ARI), whether a refusal was about
 * `replaces`. No network.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { type ProtocolError, shortType } from "../AcmeError.js"
import * as Directory from "../Directory.js"
import * as Identifier from "../Identifier.js"
import type { Order } from "../Order.js"
import type { CertificateSpec } from "../RenewalConfig.js"
import type { Bucket, OrderState } from "../RenewalState.js"
import { PipelineError } from "./context.js"

/**
 * An order as the state keeps it; what was known of its authorizations before is kept.
 *
 * @since 0.1.0
 * @category combinators
 */
export const toOrderState = (order: Order, previous?: OrderState): OrderState => ({
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

/**
 * The profile to ask for: only when the CA offers profiles, and only one it offers.
 *
 * @since 0.1.0
 * @category combinators
 */
export const profileFor = (
  spec: CertificateSpec,
  directory: Directory.Directory
): Effect.Effect<string | undefined, PipelineError> => {
  const offered = Directory.profiles(directory)
  const profile = spec.profile
  if (profile === undefined) return Effect.succeed(undefined)
  if (offered.length === 0) {
    return Effect.as(
      Effect.logWarning(`${spec.name}: the CA offers no profiles; ordering without profile "${profile}"`),
      undefined
    )
  }
  return offered.includes(profile) ? Effect.succeed(profile) : Effect.fail(
    new PipelineError({
      reason: "ProfileUnavailable",
      certificate: spec.name,
      description: `the CA does not offer the profile "${profile}" (it offers ${
        offered.join(", ")
      }); change certificates[].profile`
    })
  )
}

/**
 * The ARI CertID to send as `replaces`: the CA must offer ARI, and the new order must share a name
 * with the old certificate.
 *
 * @since 0.1.0
 * @category combinators
 */
export const replacesFor = (bucket: Bucket, directory: Directory.Directory): string | undefined => {
  const candidate = bucket.decision?.replaces
  const overlaps = bucket.current?.identifiers.some((old) => bucket.identifiers.some((id) => Identifier.equals(id, old)))
  return candidate !== undefined && Directory.supportsRenewalInfo(directory) && overlaps === true ? candidate : undefined
}

/**
 * Whether the CA refused the order because of `replaces` (and would accept it without).
 *
 * @since 0.1.0
 * @category combinators
 */
export const refusedReplaces = (error: ProtocolError): boolean => {
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
