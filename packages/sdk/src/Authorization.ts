/**
 * ACME authorizations and challenges (RFC 8555 §7.1.4, §8; RFC 8737 tls-alpn-01;
 * draft-ietf-acme-dns-account-label dns-account-01).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { AuthorizationFailed, ChallengeUnavailable } from "./AcmeError.js"
import { Identifier } from "./Identifier.js"
import { EmbeddedProblem } from "./Order.js"

/**
 * @since 0.1.0
 * @category schemas
 */
export const ChallengeStatus = Schema.Literal("pending", "processing", "valid", "invalid")

/**
 * The challenge types this SDK can answer. Others may appear in an authorization; they are kept
 * (their `type` is any string) and ignored. `dns-account-01` (draft-ietf-acme-dns-account-label) is
 * dns-01 at a name of its own for each ACME account; see `ChallengeResponse.dnsAccount01RecordName`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ChallengeType = Schema.Literal("http-01", "dns-01", "dns-account-01", "tls-alpn-01")

/**
 * @since 0.1.0
 * @category models
 */
export type ChallengeType = typeof ChallengeType.Type

/**
 * @since 0.1.0
 * @category schemas
 */
export const Challenge = Schema.Struct({
  type: Schema.String,
  url: Schema.String,
  status: ChallengeStatus,
  token: Schema.optional(Schema.String),
  validated: Schema.optional(Schema.String),
  error: Schema.optional(EmbeddedProblem)
})

/**
 * @since 0.1.0
 * @category models
 */
export type Challenge = typeof Challenge.Type

/**
 * @since 0.1.0
 * @category schemas
 */
export const AuthorizationStatus = Schema.Literal("pending", "valid", "invalid", "deactivated", "expired", "revoked")

/**
 * @since 0.1.0
 * @category models
 */
export type AuthorizationStatus = typeof AuthorizationStatus.Type

/**
 * The authorization object as the CA sends it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AuthorizationBody = Schema.Struct({
  identifier: Identifier,
  status: AuthorizationStatus,
  expires: Schema.optional(Schema.String),
  challenges: Schema.Array(Challenge),
  wildcard: Schema.optional(Schema.Boolean)
})

/**
 * An authorization and its URL.
 *
 * @since 0.1.0
 * @category models
 */
export interface Authorization extends Schema.Schema.Type<typeof AuthorizationBody> {
  readonly url: string
}

/**
 * Whether a challenge type is one this SDK can answer.
 *
 * @since 0.1.0
 * @category guards
 */
export const isSupportedChallengeType: (u: unknown) => u is ChallengeType = Schema.is(ChallengeType)

/**
 * The challenge of the given type, if the authorization offers it.
 *
 * @since 0.1.0
 * @category combinators
 */
export const findChallenge = (authorization: Authorization, type: string): Challenge | undefined =>
  authorization.challenges.find((challenge) => challenge.type === type)

/**
 * The challenge of the given type, failing with ChallengeUnavailable when the authorization does
 * not offer it or when this SDK cannot answer that type.
 *
 * @since 0.1.0
 * @category combinators
 */
export const selectChallenge = (
  authorization: Authorization,
  type: string
): Effect.Effect<Challenge & { readonly type: ChallengeType }, ChallengeUnavailable> => {
  const challenge = findChallenge(authorization, type)
  const offered = authorization.challenges.map((c) => c.type)
  return challenge !== undefined && isSupportedChallengeType(challenge.type)
    ? Effect.succeed({ ...challenge, type: challenge.type })
    : Effect.fail(new ChallengeUnavailable({ identifier: authorization.identifier.value, wanted: type, offered }))
}

/**
 * Where an authorization stands: still `pending`, `valid`, or `failed` for good: it is in another
 * final state (`invalid`, `deactivated`, `expired`, `revoked`), or one of its challenges is
 * `invalid` (RFC 8555 §7.1.6: a failed challenge fails its authorization; a CA that leaves the
 * authorization pending does not make the validation any less failed).
 *
 * @since 0.1.0
 * @category combinators
 */
export const outcome = (authorization: Authorization): "pending" | "valid" | "failed" =>
  authorization.status === "valid"
    ? "valid"
    : authorization.status !== "pending" || authorization.challenges.some((challenge) => challenge.status === "invalid")
    ? "failed"
    : "pending"

/**
 * The error of a failed authorization (see {@link outcome}), with the failed challenge's own error
 * and its subproblems.
 *
 * @since 0.1.0
 * @category combinators
 */
export const failure = (authorization: Authorization): AuthorizationFailed => {
  const failed = authorization.challenges.find((challenge) => challenge.error !== undefined) ??
    authorization.challenges.find((challenge) => challenge.status === "invalid")
  return new AuthorizationFailed({
    url: authorization.url,
    identifier: authorization.identifier.value,
    status: authorization.status === "pending" ? "pending, its challenge invalid" : authorization.status,
    challengeType: failed?.type,
    problemType: failed?.error?.type,
    detail: failed?.error?.detail,
    subproblems: failed?.error?.subproblems
  })
}
