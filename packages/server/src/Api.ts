/**
 * The REST API of `acme serve`, declared with `@effect/platform`'s `HttpApi` (the OpenAPI document
 * at `/v1/openapi.json` and the reference page at `/v1/docs` are generated from it). Bodies and
 * answers use the SDK's own schemas: `Status.Report` and `Status.CertificateStatus` (what
 * `acme status --json` prints) and `ServiceRecords.Task`.
 *
 * ```
 * GET  /v1/certificates                 read    what acme status --json gives
 * GET  /v1/certificates/{name}          read    one certificate of it
 * POST /v1/certificates/{name}/renew    write   {"force": true} optional   -> 202, task, Location
 * POST /v1/certificates/{name}/revoke   write   {"reason": "keyCompromise"} -> 202, task, Location
 * GET  /v1/tasks/{id}                   read    the task, its result or its error
 * GET  /healthz  /readyz  /metrics              unauthenticated unless server.metricsAuth
 * ```
 *
 * @since 0.1.0
 */
import { RevocationReason, ServiceRecords, Status } from "@acme/sdk"
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiMiddleware from "@effect/platform/HttpApiMiddleware"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import * as Context from "effect/Context"
import * as Schema from "effect/Schema"
import * as Problem from "./Problem.js"
import { contentType as prometheusContentType } from "./Prometheus.js"

/**
 * Who is calling: the API key's id and scope.
 *
 * @since 0.1.0
 * @category models
 */
export class Caller extends Context.Tag("@acme/server/Caller")<Caller, {
  readonly id: string
  readonly scope: ServiceRecords.ApiKeyScope
}>() {}

const unauthorized = Problem.documented(401, "No API key, or an unknown or revoked one")
const forbidden = Problem.documented(403, "The API key's scope does not allow this (read keys may only GET)")
const tooMany = Problem.documented(429, "Too many failed authentications from this address; see Retry-After")
const notFound = Problem.documented(404, "No such certificate or task")
const conflict = Problem.documented(409, "The same work is already queued or running")
const invalidBody = Problem.documented(422, "The body is not what the endpoint takes")
const internal = Problem.documented(500, "Something went wrong in the server; its log says what")
const unavailable = Problem.documented(503, "The server is not ready: the storage or the CA cannot be reached")

/**
 * Checks the API key (`Authorization: Bearer <key>` or `X-API-Key: <key>`) and its scope.
 *
 * @since 0.1.0
 * @category middleware
 */
export class Authentication extends HttpApiMiddleware.Tag<Authentication>()("Authentication", {
  provides: Caller,
  failure: Schema.Union(unauthorized, forbidden, tooMany)
}) {}

/**
 * @since 0.1.0
 * @category schemas
 */
export const RenewBody = Schema.Struct({
  force: Schema.optional(Schema.Boolean).annotations({ description: "Renew even when the certificate is not due" })
}).annotations({ identifier: "RenewBody" })

/**
 * @since 0.1.0
 * @category schemas
 */
export const RevokeBody = Schema.Struct({
  reason: RevocationReason.RevocationReason
}).annotations({ identifier: "RevokeBody" })

/**
 * `{ "task": { "id": "...", "status": "queued" } }`
 *
 * @since 0.1.0
 * @category schemas
 */
export const TaskAccepted = Schema.Struct({
  task: Schema.Struct({ id: Schema.String, status: Schema.Literal("queued") })
}).annotations({ identifier: "TaskAccepted" })

/**
 * @since 0.1.0
 * @category schemas
 */
export const TaskResponse = Schema.Struct({ task: ServiceRecords.Task }).annotations({ identifier: "TaskResponse" })

/**
 * @since 0.1.0
 * @category schemas
 */
export const Health = Schema.Struct({ status: Schema.Literal("ok") })

/**
 * @since 0.1.0
 * @category schemas
 */
export const Readiness = Schema.Struct({
  status: Schema.Literal("ready"),
  storage: Schema.String,
  /** when the CA's directory was last fetched */
  directoryFetchedAt: Schema.String
})

const name = HttpApiSchema.param("name", Schema.String)
const id = HttpApiSchema.param("id", Schema.String)

/**
 * @since 0.1.0
 * @category groups
 */
export class Certificates extends HttpApiGroup.make("certificates")
  .add(HttpApiEndpoint.get("list", "/certificates").addSuccess(Status.Report))
  .add(HttpApiEndpoint.get("get")`/certificates/${name}`.addSuccess(Status.CertificateStatus).addError(notFound))
  .add(
    HttpApiEndpoint.post("renew")`/certificates/${name}/renew`
      .setPayload(RenewBody)
      .addSuccess(TaskAccepted, { status: 202 })
      .addError(notFound)
      .addError(conflict)
      .addError(invalidBody)
  )
  .add(
    HttpApiEndpoint.post("revoke")`/certificates/${name}/revoke`
      .setPayload(RevokeBody)
      .addSuccess(TaskAccepted, { status: 202 })
      .addError(notFound)
      .addError(conflict)
      .addError(invalidBody)
  )
  .middleware(Authentication)
  .prefix("/v1")
{}

/**
 * @since 0.1.0
 * @category groups
 */
export class Tasks extends HttpApiGroup.make("tasks")
  .add(HttpApiEndpoint.get("get")`/tasks/${id}`.addSuccess(TaskResponse).addError(notFound))
  .middleware(Authentication)
  .prefix("/v1")
{}

/**
 * @since 0.1.0
 * @category groups
 */
export class System extends HttpApiGroup.make("system")
  .add(HttpApiEndpoint.get("health", "/healthz").addSuccess(Health))
  .add(HttpApiEndpoint.get("ready", "/readyz").addSuccess(Readiness).addError(unavailable))
  .add(
    HttpApiEndpoint.get("metrics", "/metrics").addSuccess(HttpApiSchema.Text({ contentType: prometheusContentType }))
  )
  .addError(unauthorized)
  .addError(forbidden)
  .addError(tooMany)
{}

const securitySchemes = (spec: Record<string, unknown>): Record<string, unknown> => {
  const components = typeof spec.components === "object" && spec.components !== null ? spec.components : {}
  return {
    ...spec,
    components: {
      ...components,
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "An API key made with `acme apikey create`" },
        apiKey: { type: "apiKey", in: "header", name: "X-API-Key", description: "The same key, in a header" }
      }
    },
    security: [{ bearer: [] }, { apiKey: [] }]
  }
}

/**
 * @since 0.1.0
 * @category api
 */
export class ServerApi extends HttpApi.make("acme")
  .add(Certificates)
  .add(Tasks)
  .add(System)
  .addError(internal)
  .annotate(OpenApi.Title, "acme serve")
  .annotate(
    OpenApi.Description,
    "Renew and revoke ACME certificates, and see their state. Every error is an RFC 7807 problem document."
  )
  .annotate(OpenApi.Transform, securitySchemes)
{}
