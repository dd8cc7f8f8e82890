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
import * as Duration from "effect/Duration"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"

/**
 * A subproblem (RFC 8555 §6.7.1): a problem about one identifier of a request.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Subproblem = Schema.Struct({
  type: Schema.String,
  detail: Schema.optional(Schema.String),
  identifier: Schema.optional(Schema.Struct({ type: Schema.String, value: Schema.String }))
})

/**
 * @since 0.1.0
 * @category models
 */
export type Subproblem = typeof Subproblem.Type

/**
 * The fields every problem error carries.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ProblemFields = {
  /** the full problem type, e.g. `urn:ietf:params:acme:error:rateLimited` */
  type: Schema.String,
  detail: Schema.optional(Schema.String),
  /** the HTTP status of the response that carried the problem */
  status: Schema.Number,
  instance: Schema.optional(Schema.String),
  subproblems: Schema.optional(Schema.Array(Subproblem)),
  /** the request that failed */
  method: Schema.String,
  url: Schema.String,
  /** the parsed `Retry-After` of the response, when it had one */
  retryAfter: Schema.optional(Schema.DurationFromMillis),
  /** the `Replay-Nonce` of the error response: callers continue with it instead of fetching a new one */
  nonce: Schema.optional(Schema.String),
  /** `badSignatureAlgorithm` lists the algorithms the CA accepts */
  algorithms: Schema.optional(Schema.Array(Schema.String))
}

/**
 * @since 0.1.0
 * @category models
 */
export interface ProblemData {
  readonly type: string
  readonly detail?: string | undefined
  readonly status: number
  readonly instance?: string | undefined
  readonly subproblems?: ReadonlyArray<Subproblem> | undefined
  readonly method: string
  readonly url: string
  readonly retryAfter?: Duration.Duration | undefined
  readonly nonce?: string | undefined
  readonly algorithms?: ReadonlyArray<string> | undefined
}

/**
 * The short name of an ACME problem type: `rateLimited` for `urn:ietf:params:acme:error:rateLimited`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const shortType = (type: string): string =>
  type.startsWith(ACME_ERROR_PREFIX) ? type.slice(ACME_ERROR_PREFIX.length) : type

/**
 * @since 0.1.0
 * @category models
 */
export const ACME_ERROR_PREFIX = "urn:ietf:params:acme:error:"

const oneLine = (text: string): string => text.replace(/\s+/g, " ").trim()

const describeProblem = (problem: ProblemData, hint: string): string => {
  const detail = problem.detail !== undefined && problem.detail.length > 0 ? `: ${oneLine(problem.detail)}` : ""
  const sub = problem.subproblems !== undefined && problem.subproblems.length > 0
    ? ` (${
      problem.subproblems.map((s) =>
        `${s.identifier ? `${s.identifier.value}: ` : ""}${shortType(s.type)}${s.detail ? ` ${oneLine(s.detail)}` : ""}`
      ).join("; ")
    })`
    : ""
  const retry = problem.retryAfter !== undefined ? `; retry after ${Duration.format(problem.retryAfter)}` : ""
  return `the CA refused ${problem.method} ${problem.url} with ${shortType(problem.type)} (HTTP ${problem.status})${detail}${sub}${retry}; ${hint}`
}

/**
 * `badNonce` answers kept coming after the bounded number of retries inside one call.
 *
 * @since 0.1.0
 * @category errors
 */
export class BadNonce extends Schema.TaggedError<BadNonce>("@acme/sdk/AcmeError/BadNonce")("BadNonce", ProblemFields) {
  override get message(): string {
    return describeProblem(this, "the CA keeps rejecting fresh nonces; try again later")
  }
}

/**
 * `rateLimited`: the CA asks us to slow down; `retryAfter` says for how long when it told us.
 *
 * @since 0.1.0
 * @category errors
 */
export class RateLimited
  extends Schema.TaggedError<RateLimited>("@acme/sdk/AcmeError/RateLimited")("RateLimited", ProblemFields)
{
  override get message(): string {
    return describeProblem(this, "wait for the rate limit to reset before trying again")
  }
}

/**
 * `accountDoesNotExist`: no account for this key (an `onlyReturnExisting` lookup, or a stale kid).
 *
 * @since 0.1.0
 * @category errors
 */
export class AccountDoesNotExist
  extends Schema.TaggedError<AccountDoesNotExist>("@acme/sdk/AcmeError/AccountDoesNotExist")(
    "AccountDoesNotExist",
    ProblemFields
  )
{
  override get message(): string {
    return describeProblem(this, "register the account first (newAccount without onlyReturnExisting)")
  }
}

/**
 * `externalAccountRequired`: the CA wants External Account Binding credentials.
 *
 * @since 0.1.0
 * @category errors
 */
export class ExternalAccountRequired
  extends Schema.TaggedError<ExternalAccountRequired>("@acme/sdk/AcmeError/ExternalAccountRequired")(
    "ExternalAccountRequired",
    ProblemFields
  )
{
  override get message(): string {
    return describeProblem(this, "supply the EAB key id and HMAC key your CA gave you (ca.eab in the config)")
  }
}

/**
 * `unauthorized`: the account may not do this (wrong key, deactivated account, foreign resource).
 *
 * @since 0.1.0
 * @category errors
 */
export class Unauthorized
  extends Schema.TaggedError<Unauthorized>("@acme/sdk/AcmeError/Unauthorized")("Unauthorized", ProblemFields)
{
  override get message(): string {
    return describeProblem(
      this,
      "check the credentials: the account key and URL must belong together and the account be valid (with EAB: the key id and HMAC key)"
    )
  }
}

/**
 * `malformed`: the CA could not make sense of the request.
 *
 * @since 0.1.0
 * @category errors
 */
export class Malformed extends Schema.TaggedError<Malformed>("@acme/sdk/AcmeError/Malformed")("Malformed", ProblemFields) {
  override get message(): string {
    return describeProblem(this, "the request was not accepted as sent; this is usually a client or configuration bug")
  }
}

/**
 * `alreadyReplaced` (RFC 9773): the certificate named in `replaces` already has a replacement order.
 *
 * @since 0.1.0
 * @category errors
 */
export class AlreadyReplaced
  extends Schema.TaggedError<AlreadyReplaced>("@acme/sdk/AcmeError/AlreadyReplaced")("AlreadyReplaced", ProblemFields)
{
  override get message(): string {
    return describeProblem(this, "resume the earlier replacement order, or order again without `replaces`")
  }
}

/**
 * `alreadyRevoked`: the certificate was revoked before.
 *
 * @since 0.1.0
 * @category errors
 */
export class AlreadyRevoked
  extends Schema.TaggedError<AlreadyRevoked>("@acme/sdk/AcmeError/AlreadyRevoked")("AlreadyRevoked", ProblemFields)
{
  override get message(): string {
    return describeProblem(this, "nothing to do: the certificate is already revoked")
  }
}

/**
 * `badCSR`: the CA rejected the certificate signing request.
 *
 * @since 0.1.0
 * @category errors
 */
export class BadCsr extends Schema.TaggedError<BadCsr>("@acme/sdk/AcmeError/BadCsr")("BadCsr", ProblemFields) {
  override get message(): string {
    return describeProblem(this, "check the key type and that the CSR names exactly the order's identifiers")
  }
}

/**
 * `badPublicKey` or `badSignatureAlgorithm`: the CA does not accept this key or algorithm;
 * `algorithms` lists what it accepts when it said so.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnsupportedKey
  extends Schema.TaggedError<UnsupportedKey>("@acme/sdk/AcmeError/UnsupportedKey")("UnsupportedKey", ProblemFields)
{
  override get message(): string {
    const accepted = this.algorithms && this.algorithms.length > 0 ? ` (it accepts ${this.algorithms.join(", ")})` : ""
    return describeProblem(this, `use a key type the CA accepts${accepted}`)
  }
}

/**
 * `badRevocationReason`: the reason code is not one the CA allows.
 *
 * @since 0.1.0
 * @category errors
 */
export class BadRevocationReason
  extends Schema.TaggedError<BadRevocationReason>("@acme/sdk/AcmeError/BadRevocationReason")(
    "BadRevocationReason",
    ProblemFields
  )
{
  override get message(): string {
    return describeProblem(this, "use another reason (unspecified, keyCompromise, superseded, cessationOfOperation)")
  }
}

/**
 * `orderNotReady`: finalize was sent before every authorization was valid.
 *
 * @since 0.1.0
 * @category errors
 */
export class OrderNotReady
  extends Schema.TaggedError<OrderNotReady>("@acme/sdk/AcmeError/OrderNotReady")("OrderNotReady", ProblemFields)
{
  override get message(): string {
    return describeProblem(this, "complete the order's authorizations before finalizing")
  }
}

/**
 * `rejectedIdentifier` or `unsupportedIdentifier`: the CA will not issue for one of the names.
 *
 * @since 0.1.0
 * @category errors
 */
export class RejectedIdentifier
  extends Schema.TaggedError<RejectedIdentifier>("@acme/sdk/AcmeError/RejectedIdentifier")(
    "RejectedIdentifier",
    ProblemFields
  )
{
  override get message(): string {
    return describeProblem(this, "remove the refused names from the certificate")
  }
}

/**
 * `caa`: a CAA record forbids this CA from issuing for a name.
 *
 * @since 0.1.0
 * @category errors
 */
export class CaaForbidden
  extends Schema.TaggedError<CaaForbidden>("@acme/sdk/AcmeError/CaaForbidden")("CaaForbidden", ProblemFields)
{
  override get message(): string {
    return describeProblem(this, "add this CA to the domain's CAA records")
  }
}

/**
 * `invalidContact` or `unsupportedContact`: the CA refused a contact URL.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidContact
  extends Schema.TaggedError<InvalidContact>("@acme/sdk/AcmeError/InvalidContact")("InvalidContact", ProblemFields)
{
  override get message(): string {
    return describeProblem(this, "use a reachable mailto: address (account.email)")
  }
}

/**
 * `userActionRequired`: for example new terms of service; `instance` links to what to read.
 *
 * @since 0.1.0
 * @category errors
 */
export class UserActionRequired
  extends Schema.TaggedError<UserActionRequired>("@acme/sdk/AcmeError/UserActionRequired")(
    "UserActionRequired",
    ProblemFields
  )
{
  override get message(): string {
    return describeProblem(this, `a person must act first${this.instance ? `: see ${this.instance}` : ""}`)
  }
}

/**
 * `invalidProfile`: the requested certificate profile is not offered.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidProfile
  extends Schema.TaggedError<InvalidProfile>("@acme/sdk/AcmeError/InvalidProfile")("InvalidProfile", ProblemFields)
{
  override get message(): string {
    return describeProblem(this, "choose a profile listed in the directory's meta.profiles")
  }
}

/**
 * `serverInternal`, or a 5xx answer: the CA had a problem of its own. Worth retrying later.
 *
 * @since 0.1.0
 * @category errors
 */
export class ServerError
  extends Schema.TaggedError<ServerError>("@acme/sdk/AcmeError/ServerError")("ServerError", ProblemFields)
{
  override get message(): string {
    return describeProblem(this, "the CA had an internal problem; try again later")
  }
}

/**
 * Any other problem type (including `compound`, `conflict` and types this SDK does not know).
 *
 * @since 0.1.0
 * @category errors
 */
export class AcmeProblem
  extends Schema.TaggedError<AcmeProblem>("@acme/sdk/AcmeError/AcmeProblem")("AcmeProblem", ProblemFields)
{
  override get message(): string {
    return describeProblem(this, "see the CA's detail above")
  }
}

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

/**
 * Builds the error class that matches a problem type.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromProblem = (problem: ProblemData): ProblemError => {
  switch (shortType(problem.type)) {
    case "badNonce":
      return new BadNonce(problem)
    case "rateLimited":
      return new RateLimited(problem)
    case "accountDoesNotExist":
      return new AccountDoesNotExist(problem)
    case "externalAccountRequired":
      return new ExternalAccountRequired(problem)
    case "unauthorized":
      return new Unauthorized(problem)
    case "malformed":
      return new Malformed(problem)
    case "alreadyReplaced":
      return new AlreadyReplaced(problem)
    case "alreadyRevoked":
      return new AlreadyRevoked(problem)
    case "badCSR":
      return new BadCsr(problem)
    case "badPublicKey":
    case "badSignatureAlgorithm":
      return new UnsupportedKey(problem)
    case "badRevocationReason":
      return new BadRevocationReason(problem)
    case "orderNotReady":
      return new OrderNotReady(problem)
    case "rejectedIdentifier":
    case "unsupportedIdentifier":
      return new RejectedIdentifier(problem)
    case "caa":
      return new CaaForbidden(problem)
    case "invalidContact":
    case "unsupportedContact":
      return new InvalidContact(problem)
    case "userActionRequired":
      return new UserActionRequired(problem)
    case "invalidProfile":
      return new InvalidProfile(problem)
    case "serverInternal":
      return new ServerError(problem)
    default:
      return problem.status >= 500 ? new ServerError(problem) : new AcmeProblem(problem)
  }
}

/**
 * The CA could not be reached, the TLS handshake failed, or the exchange took too long.
 *
 * @since 0.1.0
 * @category errors
 */
export class TransportError extends Schema.TaggedError<TransportError>("@acme/sdk/AcmeError/TransportError")(
  "TransportError",
  {
    reason: Schema.Literal("Connect", "Timeout"),
    method: Schema.String,
    url: Schema.String,
    description: Schema.String
  }
) {
  override get message(): string {
    return this.reason === "Timeout"
      ? `${this.method} ${this.url} timed out after ${this.description}; the CA is slow or unreachable, try again later`
      : `cannot reach the CA at ${this.method} ${this.url}: ${oneLine(this.description)}; check the directory URL, the network, and that the HTTP client trusts the CA's TLS certificate (acme's ca.trust, NodeAcmeHttpClient.layer({ trust }))`
  }
}

/**
 * The CA answered, but not with something this client can use.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidResponse extends Schema.TaggedError<InvalidResponse>("@acme/sdk/AcmeError/InvalidResponse")(
  "InvalidResponse",
  {
    reason: Schema.Literal(
      "UndecodableBody",
      "MalformedDirectory",
      "BodyTooLarge",
      "TruncatedBody",
      "MissingNonce",
      "MissingLocation",
      "InsecureUrl",
      "UnexpectedStatus",
      "MissingEndpoint"
    ),
    method: Schema.String,
    url: Schema.String,
    status: Schema.optional(Schema.Number),
    description: Schema.String
  }
) {
  override get message(): string {
    const status = this.status !== undefined ? ` (HTTP ${this.status})` : ""
    return `unusable answer from the CA to ${this.method} ${this.url}${status}: ${
      oneLine(this.description)
    }; check that the directory URL points at an ACME server`
  }
}

/**
 * An authorization ended `invalid` (or `deactivated`, `expired`, `revoked`): the CA could not
 * validate control of the identifier. `problemType`/`detail` come from the failed challenge.
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthorizationFailed
  extends Schema.TaggedError<AuthorizationFailed>("@acme/sdk/AcmeError/AuthorizationFailed")("AuthorizationFailed", {
    url: Schema.String,
    identifier: Schema.String,
    status: Schema.String,
    challengeType: Schema.optional(Schema.String),
    problemType: Schema.optional(Schema.String),
    detail: Schema.optional(Schema.String)
  })
{
  override get message(): string {
    const via = this.challengeType ? ` by ${this.challengeType}` : ""
    const why = this.problemType
      ? `: ${shortType(this.problemType)}${this.detail ? ` ${oneLine(this.detail)}` : ""}`
      : ""
    return `validation of ${this.identifier}${via} failed (authorization ${this.status})${why}; make sure the CA can reach the challenge response`
  }
}

/**
 * An order ended `invalid`, or reached a state from which the requested step is impossible.
 *
 * @since 0.1.0
 * @category errors
 */
export class OrderFailed extends Schema.TaggedError<OrderFailed>("@acme/sdk/AcmeError/OrderFailed")("OrderFailed", {
  url: Schema.String,
  status: Schema.String,
  problemType: Schema.optional(Schema.String),
  detail: Schema.optional(Schema.String)
}) {
  override get message(): string {
    const why = this.problemType
      ? `: ${shortType(this.problemType)}${this.detail ? ` ${oneLine(this.detail)}` : ""}`
      : ""
    return `order ${this.url} is ${this.status}${why}; start a new order`
  }
}

/**
 * Polling an authorization or order did not reach a final state within the allowed time.
 *
 * @since 0.1.0
 * @category errors
 */
export class PollTimeout extends Schema.TaggedError<PollTimeout>("@acme/sdk/AcmeError/PollTimeout")("PollTimeout", {
  url: Schema.String,
  resource: Schema.Literal("authorization", "order"),
  lastStatus: Schema.String,
  waited: Schema.DurationFromMillis
}) {
  override get message(): string {
    return `${this.resource} ${this.url} was still ${this.lastStatus} after ${
      Duration.format(this.waited)
    }; the CA is slow, try again later`
  }
}

/**
 * The caller asked for a challenge type the authorization does not offer (or one this SDK cannot
 * compute a response for).
 *
 * @since 0.1.0
 * @category errors
 */
export class ChallengeUnavailable
  extends Schema.TaggedError<ChallengeUnavailable>("@acme/sdk/AcmeError/ChallengeUnavailable")("ChallengeUnavailable", {
    identifier: Schema.String,
    wanted: Schema.String,
    offered: Schema.Array(Schema.String)
  })
{
  override get message(): string {
    return `the CA offers no ${this.wanted} challenge for ${this.identifier} (it offers ${
      this.offered.length > 0 ? this.offered.join(", ") : "none"
    }); configure one of the offered challenge types`
  }
}

/**
 * A key could not be generated, imported or exported.
 *
 * @since 0.1.0
 * @category errors
 */
export class KeyError extends Schema.TaggedError<KeyError>("@acme/sdk/AcmeError/KeyError")("KeyError", {
  reason: Schema.Literal("Generate", "Import", "Export", "Sign", "UnsupportedAlgorithm"),
  description: Schema.String
}) {
  override get message(): string {
    switch (this.reason) {
      case "Import":
        return `cannot read the key: ${
          oneLine(this.description)
        }; supply a PKCS#8 PEM or JWK private key of type EC P-256, EC P-384 or RSA`
      case "UnsupportedAlgorithm":
        return `unsupported key: ${oneLine(this.description)}; use ES256, ES384 or RS256 (ec-p256, ec-p384, rsa-2048/3072/4096)`
      default:
        return `key ${this.reason.toLowerCase()} failed: ${oneLine(this.description)}`
    }
  }
}

/**
 * A certificate signing request could not be built or read.
 *
 * @since 0.1.0
 * @category errors
 */
export class CsrError extends Schema.TaggedError<CsrError>("@acme/sdk/AcmeError/CsrError")("CsrError", {
  reason: Schema.Literal("Create", "Parse", "NoIdentifiers"),
  description: Schema.String
}) {
  override get message(): string {
    return `CSR ${this.reason === "Create" ? "creation" : "parsing"} failed: ${
      oneLine(this.description)
    }; a CSR must be PEM (CERTIFICATE REQUEST) and name every identifier as a subjectAltName`
  }
}

/**
 * A certificate (or chain) could not be parsed.
 *
 * @since 0.1.0
 * @category errors
 */
export class CertificateError extends Schema.TaggedError<CertificateError>("@acme/sdk/AcmeError/CertificateError")(
  "CertificateError",
  {
    reason: Schema.Literal("Parse", "EmptyChain", "MissingExtension", "Create"),
    description: Schema.String
  }
) {
  override get message(): string {
    return `certificate ${this.reason === "Create" ? "creation" : "reading"} failed: ${
      oneLine(this.description)
    }; expected PEM certificates (-----BEGIN CERTIFICATE-----)`
  }
}

/**
 * A name is neither a valid DNS name nor an IP address.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidIdentifier
  extends Schema.TaggedError<InvalidIdentifier>("@acme/sdk/AcmeError/InvalidIdentifier")("InvalidIdentifier", {
    value: Schema.String
  })
{
  override get message(): string {
    return `"${this.value}" is not a valid DNS name or IP address; use names like example.org, *.example.org, 192.0.2.1 or 2001:db8::1`
  }
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

const problemTags: ReadonlySet<string> = new Set([
  "BadNonce",
  "RateLimited",
  "AccountDoesNotExist",
  "ExternalAccountRequired",
  "Unauthorized",
  "Malformed",
  "AlreadyReplaced",
  "AlreadyRevoked",
  "BadCsr",
  "UnsupportedKey",
  "BadRevocationReason",
  "OrderNotReady",
  "RejectedIdentifier",
  "CaaForbidden",
  "InvalidContact",
  "UserActionRequired",
  "InvalidProfile",
  "ServerError",
  "AcmeProblem"
])

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
