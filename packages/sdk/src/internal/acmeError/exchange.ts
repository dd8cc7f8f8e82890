/**
 * Errors of an exchange with the CA that are not problem documents: the CA unreachable, an answer
 * that cannot be used, a resource that ended in a failed state, a poll that ran out of time.
 */
import * as Duration from "effect/Duration"
import * as Schema from "effect/Schema"
import { oneLine, shortType, Subproblem } from "./problem.js"

/**
 * The CA could not be reached, the TLS handshake failed, or the exchange took too long. `Trust`: the
 * CA's TLS certificate was not accepted (an unknown root, expired, another host's), which trying
 * again cannot change.
 *
 * @since 0.1.0
 * @category errors
 */
export class TransportError extends Schema.TaggedError<TransportError>("@acme/sdk/AcmeError/TransportError")(
  "TransportError",
  {
    reason: Schema.Literal("Connect", "Timeout", "Trust"),
    method: Schema.String,
    url: Schema.String,
    description: Schema.String
  }
) {
  override get message(): string {
    return this.reason === "Timeout"
      ? `${this.method} ${this.url} timed out after ${this.description}; the CA is slow or unreachable, try again later`
      : this.reason === "Trust"
      ? `the CA's TLS certificate at ${this.method} ${this.url} is not trusted (${
        oneLine(this.description)
      }); if the CA uses a private or test root, add its root certificate to ca.trust (a PEM file; NodeAcmeHttpClient.layer({ trust }) in a program), else check the directory URL`
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
      "MissingEndpoint",
      "ContradictsProtocol",
      "ForeignUrl"
    ),
    method: Schema.String,
    url: Schema.String,
    status: Schema.optional(Schema.Number),
    description: Schema.String
  }
) {
  override get message(): string {
    // an error status whose body is no problem document: most often not an ACME server at all
    if (this.reason === "UndecodableBody" && this.status !== undefined && this.status >= 400) {
      return `the CA answered ${this.status} to ${this.method} ${this.url} with ${
        oneLine(this.description)
      }, not an ACME response: is the directory URL right?`
    }
    const status = this.status !== undefined ? ` (HTTP ${this.status})` : ""
    const hint = this.reason === "ContradictsProtocol"
      ? "the CA broke RFC 8555; try again later, and tell the CA if it goes on"
      : this.reason === "ForeignUrl"
      ? "requests go to the CA's own origin only; check the directory URL"
      : "check that the directory URL points at an ACME server"
    return `unusable answer from the CA to ${this.method} ${this.url}${status}: ${oneLine(this.description)}; ${hint}`
  }
}

/**
 * An authorization ended `invalid` (or `deactivated`, `expired`, `revoked`), or one of its
 * challenges did: the CA could not validate control of the identifier. `problemType`, `detail` and
 * `subproblems` come from the failed challenge's `error`.
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
    detail: Schema.optional(Schema.String),
    subproblems: Schema.optional(Schema.Array(Subproblem))
  })
{
  override get message(): string {
    const via = this.challengeType ? ` by ${this.challengeType}` : ""
    const sub = (this.subproblems ?? []).map((s) =>
      `${s.identifier ? `${s.identifier.value}: ` : ""}${shortType(s.type)}${s.detail ? ` ${oneLine(s.detail)}` : ""}`
    )
    const why = this.problemType
      ? `: ${shortType(this.problemType)}${this.detail ? ` ${oneLine(this.detail)}` : ""}${
        sub.length > 0 ? ` (${sub.join("; ")})` : ""
      }`
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
