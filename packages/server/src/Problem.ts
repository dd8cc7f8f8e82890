/**
 * Every error the server answers is an RFC 7807 problem document (`application/problem+json`) with
 * `type`, `title`, `status`, `detail` and `instance`: the handlers fail with a `Problem`, and the
 * server's outermost middleware turns it (and anything else that went wrong) into the response.
 *
 * `type` is `urn:acme-effect:problem:<name>`; `detail` is one line for a person, never a stack
 * trace or a schema's text.
 *
 * @since 0.1.0
 */
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Data from "effect/Data"
import * as Schema from "effect/Schema"

/**
 * @since 0.1.0
 * @category schemas
 */
export const ProblemDocument = Schema.Struct({
  type: Schema.String,
  title: Schema.String,
  status: Schema.Int,
  detail: Schema.String,
  instance: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export type ProblemDocument = typeof ProblemDocument.Type

const kinds = {
  400: ["bad-request", "Bad Request"],
  401: ["unauthorized", "Unauthorized"],
  403: ["forbidden", "Forbidden"],
  404: ["not-found", "Not Found"],
  409: ["conflict", "Conflict"],
  422: ["invalid-body", "Unprocessable Content"],
  429: ["too-many-requests", "Too Many Requests"],
  500: ["internal", "Internal Server Error"],
  503: ["unavailable", "Service Unavailable"]
} as const

/**
 * The statuses the server answers problems with.
 *
 * @since 0.1.0
 * @category models
 */
export type Status = keyof typeof kinds

/**
 * A problem, as handlers fail with it.
 *
 * @since 0.1.0
 * @category errors
 */
export class Problem extends Data.TaggedError("Problem")<{
  readonly status: Status
  readonly type: string
  readonly title: string
  readonly detail: string
  /** seconds, for 429 and 503 */
  readonly retryAfter?: number | undefined
}> {}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (status: Status, detail: string, retryAfter?: number): Problem =>
  new Problem({
    status,
    type: `urn:acme-effect:problem:${kinds[status][0]}`,
    title: kinds[status][1],
    detail,
    retryAfter
  })

/**
 * The problem as a response; `instance` is the request's path.
 *
 * @since 0.1.0
 * @category combinators
 */
export const toResponse = (problem: Problem, instance: string): HttpServerResponse.HttpServerResponse => {
  const document: ProblemDocument = {
    type: problem.type,
    title: problem.title,
    status: problem.status,
    detail: problem.detail,
    instance
  }
  return HttpServerResponse.unsafeJson(document, {
    status: problem.status,
    contentType: "application/problem+json",
    headers: problem.retryAfter === undefined ? undefined : { "retry-after": String(Math.ceil(problem.retryAfter)) }
  })
}

/**
 * A problem of one status, for `HttpApi` declarations (the OpenAPI document lists it).
 *
 * @since 0.1.0
 * @category schemas
 */
export const documented = (status: Status, description: string) =>
  ProblemDocument.annotations({
    ...HttpApiSchema.annotations({ status }),
    identifier: `Problem${status}`,
    description
  }).pipe(HttpApiSchema.withEncoding({ kind: "Json", contentType: "application/problem+json" }))
