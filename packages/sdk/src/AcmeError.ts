/**
 * Every failure the SDK can report, as tagged errors in the Effect error channel.
 *
 * - ACME problem documents (RFC 7807, RFC 8555 §6.7) become one class per problem type that a
 *   caller handles differently ({@link RateLimited}, {@link BadNonce}, {@link Unauthorized}, ...),
 *   all carrying the same {@link ProblemFields}; unknown types become {@link AcmeProblem}.
 * - Talking to the CA can also fail without a problem document: {@link TransportError} (connection,
 *   TLS, timeout) and {@link InvalidResponse} (a body that does not decode, a missing nonce, ...).
 * - Local work has its own errors: keys, CSRs, certificates, identifiers.
 *
 * Every error has a one-line `message` that says what went wrong and what to do about it. None of
 * them ever carries key material.
 *
 * @since 0.1.0
 */
import * as Predicate from "effect/Predicate"
import {
  AuthorizationFailed,
  ChallengeUnavailable,
  InvalidResponse,
  OrderFailed,
  PollTimeout,
  TransportError
} from "./internal/acmeError/exchange.js"
import { CertificateError, CsrError, InvalidIdentifier, KeyError } from "./internal/acmeError/local.js"
import { type ProblemData, problemError, shortType } from "./internal/acmeError/problem.js"

export { ACME_ERROR_PREFIX, type ProblemData, ProblemFields, shortType, Subproblem } from "./internal/acmeError/problem.js"
export { AuthorizationFailed, ChallengeUnavailable, InvalidResponse, OrderFailed, PollTimeout, TransportError }
export { CertificateError, CsrError, InvalidIdentifier, KeyError }

// -- problem documents: one class per problem type a caller handles differently ----------------

/**
 * `badNonce` answers kept coming after the bounded number of retries inside one call.
 *
 * @since 0.1.0
 * @category errors
 */
export class BadNonce extends problemError<BadNonce>()(
  "BadNonce",
  "the CA keeps rejecting fresh nonces; try again later"
) {}

/**
 * `rateLimited`: the CA asks us to slow down; `retryAfter` says for how long when it told us.
 *
 * @since 0.1.0
 * @category errors
 */
export class RateLimited extends problemError<RateLimited>()(
  "RateLimited",
  "wait for the rate limit to reset before trying again"
) {}

/**
 * `accountDoesNotExist`: no account for this key (an `onlyReturnExisting` lookup, or a stale kid).
 *
 * @since 0.1.0
 * @category errors
 */
export class AccountDoesNotExist extends problemError<AccountDoesNotExist>()(
  "AccountDoesNotExist",
  "register the account first (newAccount without onlyReturnExisting)"
) {}

/**
 * `externalAccountRequired`: the CA wants External Account Binding credentials.
 *
 * @since 0.1.0
 * @category errors
 */
export class ExternalAccountRequired extends problemError<ExternalAccountRequired>()(
  "ExternalAccountRequired",
  "supply the EAB key id and HMAC key your CA gave you (ca.eab in the config)"
) {}

/**
 * `unauthorized`: the account may not do this (wrong key, deactivated account, foreign resource).
 *
 * @since 0.1.0
 * @category errors
 */
export class Unauthorized extends problemError<Unauthorized>()(
  "Unauthorized",
  "check the credentials: the account key and URL must belong together and the account be valid (with EAB: the key id and HMAC key)"
) {}

/**
 * `malformed`: the CA could not make sense of the request.
 *
 * @since 0.1.0
 * @category errors
 */
export class Malformed extends problemError<Malformed>()(
  "Malformed",
  "the request was not accepted as sent; this is usually a client or configuration bug"
) {}

/**
 * `alreadyReplaced` (RFC 9773): the certificate named in `replaces` already has a replacement order.
 *
 * @since 0.1.0
 * @category errors
 */
export class AlreadyReplaced extends problemError<AlreadyReplaced>()(
  "AlreadyReplaced",
  "resume the earlier replacement order, or order again without `replaces`"
) {}

/**
 * `alreadyRevoked`: the certificate was revoked before.
 *
 * @since 0.1.0
 * @category errors
 */
export class AlreadyRevoked extends problemError<AlreadyRevoked>()(
  "AlreadyRevoked",
  "nothing to do: the certificate is already revoked"
) {}

/**
 * `badCSR`: the CA rejected the certificate signing request.
 *
 * @since 0.1.0
 * @category errors
 */
export class BadCsr extends problemError<BadCsr>()(
  "BadCsr",
  "check the key type and that the CSR names exactly the order's identifiers"
) {}

/**
 * `badPublicKey` or `badSignatureAlgorithm`: the CA does not accept this key or algorithm;
 * `algorithms` lists what it accepts when it said so.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnsupportedKey extends problemError<UnsupportedKey>()(
  "UnsupportedKey",
  (problem) =>
    `use a key type the CA accepts${
      problem.algorithms && problem.algorithms.length > 0 ? ` (it accepts ${problem.algorithms.join(", ")})` : ""
    }`
) {}

/**
 * `badRevocationReason`: the reason code is not one the CA allows.
 *
 * @since 0.1.0
 * @category errors
 */
export class BadRevocationReason extends problemError<BadRevocationReason>()(
  "BadRevocationReason",
  "use another reason (unspecified, keyCompromise, superseded, cessationOfOperation)"
) {}

/**
 * `orderNotReady`: finalize was sent before every authorization was valid.
 *
 * @since 0.1.0
 * @category errors
 */
export class OrderNotReady extends problemError<OrderNotReady>()(
  "OrderNotReady",
  "complete the order's authorizations before finalizing"
) {}

/**
 * `rejectedIdentifier` or `unsupportedIdentifier`: the CA will not issue for one of the names.
 *
 * @since 0.1.0
 * @category errors
 */
export class RejectedIdentifier extends problemError<RejectedIdentifier>()(
  "RejectedIdentifier",
  "remove the refused names from the certificate"
) {}

/**
 * `caa`: a CAA record forbids this CA from issuing for a name.
 *
 * @since 0.1.0
 * @category errors
 */
export class CaaForbidden extends problemError<CaaForbidden>()(
  "CaaForbidden",
  "add this CA to the domain's CAA records"
) {}

/**
 * `invalidContact` or `unsupportedContact`: the CA refused a contact URL.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidContact extends problemError<InvalidContact>()(
  "InvalidContact",
  "use a reachable mailto: address (account.email)"
) {}

/**
 * `userActionRequired`: for example new terms of service; `instance` links to what to read.
 *
 * @since 0.1.0
 * @category errors
 */
export class UserActionRequired extends problemError<UserActionRequired>()(
  "UserActionRequired",
  (problem) =>
    `a person must act first${problem.instance ? `: see ${problem.instance}` : ""}`
) {}

/**
 * `invalidProfile`: the requested certificate profile is not offered.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidProfile extends problemError<InvalidProfile>()(
  "InvalidProfile",
  "choose a profile listed in the directory's meta.profiles"
) {}

/**
 * `serverInternal`, or a 5xx answer: the CA had a problem of its own. Worth retrying later.
 *
 * @since 0.1.0
 * @category errors
 */
export class ServerError extends problemError<ServerError>()(
  "ServerError",
  "the CA had an internal problem; try again later"
) {}

/**
 * Any other problem type (including `compound`, `conflict` and types this SDK does not know).
 *
 * @since 0.1.0
 * @category errors
 */
export class AcmeProblem extends problemError<AcmeProblem>()("AcmeProblem", "see the CA's detail above") {}

/**
 * An error decoded from a problem document.
 *
 * @since 0.1.0
 * @category errors
 */
export type ProblemError =
  | BadNonce
  | RateLimited
  | AccountDoesNotExist
  | ExternalAccountRequired
  | Unauthorized
  | Malformed
  | AlreadyReplaced
  | AlreadyRevoked
  | BadCsr
  | UnsupportedKey
  | BadRevocationReason
  | OrderNotReady
  | RejectedIdentifier
  | CaaForbidden
  | InvalidContact
  | UserActionRequired
  | InvalidProfile
  | ServerError
  | AcmeProblem

interface ProblemErrorClass {
  new(problem: ProblemData): ProblemError
  readonly _tag: ProblemError["_tag"]
}

/** each problem type (its short name) and its class; any other type is an AcmeProblem (a ServerError for a 5xx) */
const problemClasses: Readonly<Record<string, ProblemErrorClass>> = {
  badNonce: BadNonce,
  rateLimited: RateLimited,
  accountDoesNotExist: AccountDoesNotExist,
  externalAccountRequired: ExternalAccountRequired,
  unauthorized: Unauthorized,
  malformed: Malformed,
  alreadyReplaced: AlreadyReplaced,
  alreadyRevoked: AlreadyRevoked,
  badCSR: BadCsr,
  badPublicKey: UnsupportedKey,
  badSignatureAlgorithm: UnsupportedKey,
  badRevocationReason: BadRevocationReason,
  orderNotReady: OrderNotReady,
  rejectedIdentifier: RejectedIdentifier,
  unsupportedIdentifier: RejectedIdentifier,
  caa: CaaForbidden,
  invalidContact: InvalidContact,
  unsupportedContact: InvalidContact,
  userActionRequired: UserActionRequired,
  invalidProfile: InvalidProfile,
  serverInternal: ServerError
}

/**
 * Builds the error class that matches a problem type.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromProblem = (problem: ProblemData): ProblemError => {
  const type = shortType(problem.type)
  const Class = Object.hasOwn(problemClasses, type) ? problemClasses[type] : undefined
  return Class !== undefined
    ? new Class(problem)
    : problem.status >= 500
    ? new ServerError(problem)
    : new AcmeProblem(problem)
}

/**
 * Everything a call to the CA can fail with.
 *
 * @since 0.1.0
 * @category errors
 */
export type ProtocolError =
  | ProblemError
  | TransportError
  | InvalidResponse
  | AuthorizationFailed
  | OrderFailed
  | PollTimeout
  | ChallengeUnavailable
  | KeyError
  | CsrError
  | CertificateError

const problemTags: ReadonlySet<string> = new Set(
  [...Object.values(problemClasses), AcmeProblem].map((Class: ProblemErrorClass) => Class._tag)
)

/**
 * Whether a value is an error decoded from a problem document.
 *
 * @since 0.1.0
 * @category guards
 */
export const isProblemError = (u: unknown): u is ProblemError =>
  Predicate.hasProperty(u, "_tag") && typeof u._tag === "string" && problemTags.has(u._tag) &&
  Predicate.hasProperty(u, "type")

const protocolTags: ReadonlySet<string> = new Set([
  ...problemTags,
  "TransportError",
  "InvalidResponse",
  "AuthorizationFailed",
  "OrderFailed",
  "PollTimeout",
  "ChallengeUnavailable",
  "KeyError",
  "CsrError",
  "CertificateError"
])

/**
 * Whether a value is one of the errors a call to the CA can fail with.
 *
 * @since 0.1.0
 * @category guards
 */
export const isProtocolError = (u: unknown): u is ProtocolError =>
  Predicate.hasProperty(u, "_tag") && typeof u._tag === "string" && protocolTags.has(u._tag)

/**
 * Whether trying the same thing again later can succeed: rate limits, server errors, transport
 * failures, timeouts and bad nonces. Everything else needs a change first.
 *
 * @since 0.1.0
 * @category guards
 */
export const isRetryable = (error: ProtocolError): boolean => {
  switch (error._tag) {
    case "RateLimited":
    case "ServerError":
    case "TransportError":
    case "BadNonce":
    case "PollTimeout":
      return true
    case "InvalidResponse":
      return error.reason === "TruncatedBody"
    default:
      return false
  }
}
