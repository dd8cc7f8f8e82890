/**
 * Why a model's answer could not be used, in one line without secrets (never the AiError's own
 * message, which may carry request details).
 */
import type * as AiError from "@effect/ai/AiError"
import type * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"

/** A failure of one model call: an AiError, a timeout, or an answer our Schema rejected. */
export type CallFailure = AiError.AiError | Cause.TimeoutException | { readonly _tag: "ParseError" }

const seconds = (duration: Duration.Duration): string => {
  const value = Duration.toSeconds(duration)
  return `${value} second${value === 1 ? "" : "s"}`
}

export const describe = (provider: string, timeout: Duration.Duration, failure: CallFailure): string => {
  switch (failure._tag) {
    case "TimeoutException":
      return `the model did not answer within ${seconds(timeout)}`
    case "HttpResponseError": {
      if (failure.reason !== "StatusCode") return `${provider}'s answer could not be read (${failure.reason})`
      const status = failure.response.status
      const kind = status === 429
        ? " (rate limited)"
        : status === 401 || status === 403
        ? " (check the API key)"
        : status === 404
        ? " (check baseUrl and the model's name; an OpenAI-compatible server must offer the Responses API)"
        : status >= 500
        ? " (server error)"
        : ""
      return `${provider} answered HTTP ${status}${kind}`
    }
    case "HttpRequestError":
      return `${provider} could not be reached (${failure.reason})`
    case "MalformedOutput":
      return "the answer was not a valid plan (it did not match the expected JSON)"
    case "MalformedInput":
      return "the request could not be built"
    case "UnknownError":
      return `${provider} failed (unknown error)`
    case "ParseError":
      return "the scan could not be prepared for the model"
  }
}
