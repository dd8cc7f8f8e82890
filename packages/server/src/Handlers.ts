/**
 * The handlers of the API's groups.
 *
 * @since 0.1.0
 */
import { AcmeProtocol, Storage } from "@acme/sdk"
import * as Arr from "effect/Array"
import type * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import { type Authentication, Caller, RenewBody, RevokeBody, ServerApi } from "./Api.js"
import * as Auth from "./Auth.js"
import { type AuthThrottle } from "./AuthThrottle.js"
import { Current } from "./Environment.js"
import * as Problem from "./Problem.js"
import * as Prometheus from "./Prometheus.js"
import * as Snapshot from "./Snapshot.js"
import { Tasks } from "./Tasks.js"

const internal = (what: string) => (error: { readonly message: string }) =>
  Effect.zipRight(Effect.logError(`${what}: ${error.message}`), Problem.make(500, `${what}; see the server log`))

const notConfigured = (name: string) =>
  Problem.make(404, `no certificate named "${name}" is configured; GET /v1/certificates lists them`)

/** the configured certificate of that name, or 404 */
const configured = (name: string) =>
  Effect.flatMap(Effect.flatMap(Current, (current) => current.get), (active) =>
    Option.match(Arr.findFirst(active.settings.config.certificates, (certificate) => certificate.name === name), {
      onNone: () => notConfigured(name),
      onSome: (certificate) => Effect.succeed(certificate.name)
    }))

const describeIssue = (issue: ParseResult.ArrayFormatterIssue): string => {
  const at = issue.path.length > 0 ? `"${issue.path.join(".")}"` : "the body"
  return issue._tag === "Unexpected"
    ? `${at} is not a field of this body`
    : issue._tag === "Missing"
    ? `${at} is missing`
    : `${at} has the wrong value`
}

/**
 * Reads a JSON body with a schema; every way it can be wrong is a 422 whose detail says what, and
 * how the body should look (never the schema's own text).
 */
const readBody = <A, I>(
  request: HttpServerRequest.HttpServerRequest,
  schema: Schema.Schema<A, I>,
  options: { readonly optional: boolean; readonly expected: string }
): Effect.Effect<A, Problem.Problem> =>
  Effect.gen(function*() {
    const text = yield* request.text.pipe(
      Effect.catchAll(() => Problem.make(422, `the body could not be read; send ${options.expected}`))
    )
    if (text.trim().length === 0) {
      if (options.optional) {
        return yield* Schema.decodeUnknown(schema)({}).pipe(
          Effect.mapError(() => Problem.make(422, `send ${options.expected}`))
        )
      }
      return yield* Problem.make(422, `the body is empty; send ${options.expected}`)
    }
    const json = yield* Effect.try({
      try: (): unknown => JSON.parse(text),
      catch: () => Problem.make(422, `the body is not JSON; send ${options.expected}`)
    })
    return yield* Schema.decodeUnknown(schema, { onExcessProperty: "error", errors: "all" })(json).pipe(
      Effect.mapError((error) => {
        const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
        const first = issues[0]
        return Problem.make(422, `${first === undefined ? "the body is wrong" : describeIssue(first)}; send ${options.expected}`)
      })
    )
  })

const accepted = (task: { readonly id: string }) =>
  HttpServerResponse.unsafeJson({ task: { id: task.id, status: "queued" } }, {
    status: 202,
    headers: { location: `/v1/tasks/${task.id}` }
  })

const reasons = "unspecified, keyCompromise, affiliationChanged, superseded or cessationOfOperation"

const certificates = HttpApiBuilder.group(ServerApi, "certificates", (handlers) =>
  handlers
    .handle("list", () => Snapshot.status.pipe(Effect.catchAll(internal("the certificates cannot be read"))))
    .handle("get", ({ path }) =>
      Effect.gen(function*() {
        yield* configured(path.name)
        const report = yield* Snapshot.status.pipe(Effect.catchAll(internal("the certificates cannot be read")))
        const found = report.certificates.find((certificate) => certificate.name === path.name)
        return found ?? (yield* notConfigured(path.name))
      }))
    .handleRaw("renew", ({ path, request }) =>
      Effect.gen(function*() {
        const caller = yield* Caller
        const name = yield* configured(path.name)
        const body = yield* readBody(request, RenewBody, {
          optional: true,
          expected: "no body, or {\"force\": true} to renew a certificate that is not due"
        })
        const tasks = yield* Tasks
        const task = yield* tasks.submit({
          action: "renew",
          certificate: name,
          force: body.force ?? false,
          requestedBy: caller.id
        }).pipe(Effect.catchTag("StorageError", internal("the task cannot be stored")))
        return accepted(task)
      }))
    .handleRaw("revoke", ({ path, request }) =>
      Effect.gen(function*() {
        const caller = yield* Caller
        const name = yield* configured(path.name)
        const body = yield* readBody(request, RevokeBody, {
          optional: false,
          expected: `{"reason": R} with R one of ${reasons}`
        })
        const tasks = yield* Tasks
        const task = yield* tasks.submit({
          action: "revoke",
          certificate: name,
          reason: body.reason,
          requestedBy: caller.id
        }).pipe(Effect.catchTag("StorageError", internal("the task cannot be stored")))
        return accepted(task)
      })))

const tasks = HttpApiBuilder.group(ServerApi, "tasks", (handlers) =>
  handlers.handle("get", ({ path }) =>
    Effect.gen(function*() {
      const found = yield* Effect.flatMap(Tasks, (tasks) => tasks.get(path.id)).pipe(
        Effect.catchAll(internal("the task cannot be read"))
      )
      if (Option.isNone(found)) {
        return yield* Problem.make(404, `there is no task ${path.id} (finished tasks are kept for a while, not forever)`)
      }
      return { task: found.value }
    })))

/** `server.metricsAuth: true` makes the system endpoints ask for a read key */
const systemAuth = Effect.gen(function*() {
  const active = yield* Effect.flatMap(Current, (current) => current.get)
  if (!active.server.metricsAuth) return
  const request = yield* HttpServerRequest.HttpServerRequest
  yield* Auth.authenticate(Auth.presentedKey(request), { scope: "read", from: Auth.address(request) })
})

/** how long a fetched directory counts for readiness */
const directoryFreshMillis = 10 * 60 * 1000

const system = HttpApiBuilder.group(ServerApi, "system", (handlers) =>
  Effect.gen(function*() {
    const lastDirectory = yield* Ref.make(Option.none<DateTime.Utc>())
    const directoryFetchedAt = Effect.gen(function*() {
      const now = yield* DateTime.now
      const last = yield* Ref.get(lastDirectory)
      if (Option.isSome(last) && DateTime.distance(last.value, now) < directoryFreshMillis) return last.value
      const current = yield* Current
      yield* current.use((active) => Effect.flatMap(AcmeProtocol.AcmeProtocol, (acme) => acme.directory).pipe(
        Effect.provide(active.context),
        Effect.timeout("10 seconds")
      ))
      yield* Ref.set(lastDirectory, Option.some(now))
      return now
    })
    return handlers
      .handle("health", () => Effect.as(systemAuth, { status: "ok" as const }))
      .handle("ready", () =>
        Effect.gen(function*() {
          yield* systemAuth
          const current = yield* Current
          const location = yield* current.use((active) =>
            Effect.flatMap(Storage.Storage, (storage) => Effect.as(storage.listCertificates, storage.location)).pipe(
              Effect.provide(active.context)
            )
          ).pipe(Effect.catchAll((error) => Problem.make(503, `the storage cannot be read: ${error.message}`)))
          const fetched = yield* directoryFetchedAt.pipe(
            Effect.catchAll((error) =>
              Problem.make(503, `the CA's directory cannot be fetched: ${"message" in error ? error.message : "timeout"}`)
            )
          )
          return { status: "ready" as const, storage: location, directoryFetchedAt: DateTime.formatIso(fetched) }
        }))
      .handle("metrics", () =>
        Effect.gen(function*() {
          yield* systemAuth
          const text = yield* Effect.flatMap(Prometheus.Prometheus, (prometheus) => prometheus.render)
          return HttpServerResponse.text(text, { contentType: Prometheus.contentType })
        }))
  }))

/**
 * Every group of the API, implemented.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<
  HttpApi.Api,
  never,
  Current | Tasks | AuthThrottle | Prometheus.Prometheus | Authentication
> = HttpApiBuilder.api(ServerApi).pipe(Layer.provide([certificates, tasks, system]))
