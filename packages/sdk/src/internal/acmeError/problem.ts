/**
 * What every ACME problem error shares (RFC 7807, RFC 8555 §6.7): its fields, its one-line message,
 * and the factory that builds one error class per problem type from a tag and a hint.
 */
import * as Duration from "effect/Duration"
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
 * @since 0.1.0
 * @category models
 */
export const ACME_ERROR_PREFIX = "urn:ietf:params:acme:error:"

/**
 * The short name of an ACME problem type: `rateLimited` for `urn:ietf:params:acme:error:rateLimited`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const shortType = (type: string): string =>
  type.startsWith(ACME_ERROR_PREFIX) ? type.slice(ACME_ERROR_PREFIX.length) : type

/** @internal */
export const oneLine = (text: string): string => text.replace(/\s+/g, " ").trim()

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

/** @internal */
export type ProblemClass<Self, Tag extends string> = Schema.TaggedErrorClass<
  Self,
  Tag,
  { readonly _tag: Schema.tag<Tag> } & typeof ProblemFields
>

/**
 * The class of one problem type: a `Schema.TaggedError` tagged `Tag` (identifier
 * `@acme/sdk/AcmeError/<Tag>`) with the {@link ProblemFields}, whose message describes the problem
 * and ends with `hint`. `class X extends problemError<X>()("X", "hint") {}`.
 *
 * @internal
 */
export const problemError = <Self = never>() =>
<Tag extends string>(tag: Tag, hint: string | ((problem: ProblemData) => string)): ProblemClass<Self, Tag> => {
  // `Schema.TaggedError<Self>` picks its class type with a conditional on `Self` (a reminder to pass
  // it), which TypeScript leaves unresolved while `Self` is a type parameter: the cast names the type
  // it resolves to for every concrete `Self`.
  const Base = Schema.TaggedError<Self>(`@acme/sdk/AcmeError/${tag}`)(tag, ProblemFields) as unknown as ProblemClass<
    Self,
    Tag
  >
  return class extends Base {
    override get message(): string {
      return describeProblem(this, typeof hint === "string" ? hint : hint(this))
    }
  }
}
