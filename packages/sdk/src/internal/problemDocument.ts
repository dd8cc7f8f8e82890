/**
 * Error answers: a problem document (RFC 7807, RFC 8555 §6.7) becomes the tagged error of its type.
 */
import * as Effect from "effect/Effect"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { fromProblem, InvalidResponse, type ProblemError, ServerError, Subproblem } from "../AcmeError.js"
import { bodyText, type Exchange } from "./exchange.js"
import { replayNonce, retryAfter } from "./response.js"

const ProblemDocument = Schema.Struct({
  type: Schema.optionalWith(Schema.String, { default: () => "about:blank" }),
  detail: Schema.optional(Schema.String),
  instance: Schema.optional(Schema.String),
  subproblems: Schema.optional(Schema.Array(Subproblem)),
  algorithms: Schema.optional(Schema.Array(Schema.String))
})

const decodeProblemDocument = Schema.decodeUnknownEither(Schema.parseJson(ProblemDocument))

/**
 * The problem type of an error response, for its span; "undecodable" when the body is not one.
 *
 * @internal
 */
export const problemType = (exchange: Exchange): string => {
  const decoded = decodeProblemDocument(bodyText(exchange))
  return decoded._tag === "Right" ? decoded.right.type : "undecodable"
}

/**
 * Turns an error response into the matching tagged error. A 5xx without a problem document is a
 * server error; a 4xx whose body is not a problem document is an invalid response.
 *
 * @internal
 */
export const problem = (exchange: Exchange): Effect.Effect<ProblemError | InvalidResponse> =>
  Effect.gen(function*() {
    const delay = yield* retryAfter(exchange.headers)
    const nonce = replayNonce(exchange)
    const text = bodyText(exchange)
    const decoded = decodeProblemDocument(text)
    const common = {
      status: exchange.status,
      method: exchange.method,
      url: exchange.url,
      retryAfter: delay,
      nonce
    }
    const error = decoded._tag === "Right"
      ? fromProblem({ ...common, ...decoded.right })
      : exchange.status >= 500
      ? new ServerError({
        ...common,
        type: "about:blank",
        detail: `HTTP ${exchange.status} without a problem document`
      })
      : new InvalidResponse({
        reason: "UndecodableBody",
        method: exchange.method,
        url: exchange.url,
        status: exchange.status,
        description: `the error response is not a JSON problem document (${
          ParseResult.TreeFormatter.formatErrorSync(decoded.left).split("\n")[0]
        }): ${JSON.stringify(text.slice(0, 120))}`
      })
    return error
  })
