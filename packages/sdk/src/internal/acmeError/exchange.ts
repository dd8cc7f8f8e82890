/**
 * Errors of an exchange with the CA that are not problem documents: the CA unreachable, an answer
 * that cannot be used, a resource that ended in a failed state, a poll that ran out of time.
 */
import * as Duration from "effect/Duration"
import * as Schema from "effect/Schema"
import { oneLine, shortType } from "./problem.js"

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
