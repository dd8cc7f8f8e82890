/**
 * `acme serve` as a Layer: the configuration (reloaded on SIGHUP), the task queue and the schedule,
 * the REST API with its OpenAPI document and reference page, `/metrics`, the status page, and every
 * error as a problem document. Stopping it (SIGTERM: the Layer's scope closes) closes the listener
 * first, then gives the running task `drainTimeout` to finish.
 *
 * ```ts
 * const ServeLive = Server.layer({ load, listen: "127.0.0.1:8555" })
 * Layer.launch(ServeLive).pipe(NodeRuntime.runMain)
 * ```
 *
 * @since 0.1.0
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpApiScalar from "@effect/platform/HttpApiScalar"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import type * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import type { StorageError } from "@acme/sdk/StorageError"
import * as Cause from "effect/Cause"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Stream from "effect/Stream"
import { createServer } from "node:http"
import * as Auth from "./Auth.js"
import * as AuthThrottle from "./AuthThrottle.js"
import * as Environment from "./Environment.js"
import * as Handlers from "./Handlers.js"
import * as Problem from "./Problem.js"
import * as Prometheus from "./Prometheus.js"
import * as Scheduler from "./Scheduler.js"
import { parseListen } from "./ServerConfig.js"
import * as Snapshot from "./Snapshot.js"
import * as StatusPage from "./StatusPage.js"
import * as Tasks from "./Tasks.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** reads the configuration: at start, and again on each reload */
  readonly load: Effect.Effect<Environment.Environment, Environment.LoadError>
  /** `host:port`, instead of `server.listen` */
  readonly listen?: string | undefined
  /** reload on this signal; default `SIGHUP` (none: `false`) */
  readonly reloadSignal?: NodeJS.Signals | false | undefined
  /** how long the running task may go on after shutdown began; default 8 seconds */
  readonly drainTimeout?: Duration.DurationInput | undefined
  /** failed authentications allowed per address before it is slowed down */
  readonly throttle?: AuthThrottle.Options | undefined
}

/**
 * Why the server could not start: one line.
 *
 * @since 0.1.0
 * @category models
 */
export interface StartError {
  readonly message: string
}

const pathOf = (url: string): string => URL.canParse(url, "http://server") ? new URL(url, "http://server").pathname : "/"

/** the failure of a request (or what went wrong) as a problem document */
const problems = HttpApiBuilder.middleware((app) =>
  Effect.catchAllCause(app, (cause) =>
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const instance = pathOf(request.url)
      const failure = Cause.failureOption(cause)
      if (Option.isSome(failure)) {
        const error: unknown = failure.value
        if (error instanceof Problem.Problem) return Problem.toResponse(error, instance)
        const tag = typeof error === "object" && error !== null && "_tag" in error ? error._tag : undefined
        if (tag === "HttpApiDecodeError") {
          return Problem.toResponse(Problem.make(422, "the request's path or query is not what this endpoint takes"), instance)
        }
        if (tag === "RouteNotFound") {
          return Problem.toResponse(
            Problem.make(404, `nothing answers ${request.method} ${instance}; the API is described at /v1/docs`),
            instance
          )
        }
      }
      if (Cause.isInterruptedOnly(cause)) return yield* Effect.failCause(cause)
      yield* Effect.logError(`${request.method} ${instance} failed`, cause)
      return Problem.toResponse(Problem.make(500, "the server failed to answer; its log says why"), instance)
    })
  )
)

/** reloads the configuration on a signal, saying in one line what came of it */
const reloadOn = (signal: NodeJS.Signals): Layer.Layer<never, never, Environment.Current> =>
  Layer.scopedDiscard(Effect.gen(function*() {
    const current = yield* Environment.Current
    const signals = Stream.async<void>((emit) => {
      const listener = () => void emit.single(undefined)
      process.on(signal, listener)
      return Effect.sync(() => process.off(signal, listener))
    })
    yield* signals.pipe(
      Stream.runForEach(() =>
        Effect.gen(function*() {
          const previous = yield* current.get
          const result = yield* current.reload
          if (Either.isLeft(result)) {
            return yield* Effect.logError(`${signal}: configuration not reloaded, the previous one stays: ${result.left.message}`)
          }
          yield* Effect.logInfo(`${signal}: configuration reloaded`)
          if (result.right.server.listen !== previous.server.listen) {
            yield* Effect.logWarning(`server.listen changed to ${result.right.server.listen}: restart acme serve to listen there`)
          }
          yield* Snapshot.status.pipe(Effect.ignore)
        })
      ),
      Effect.forkScoped
    )
  }))

/** the certificate metrics, set at start and after each task */
const refreshMetrics: Layer.Layer<never, never, Environment.Current | Tasks.Tasks> = Layer.scopedDiscard(
  Effect.gen(function*() {
    const finished = yield* Effect.flatMap(Tasks.Tasks, (tasks) => tasks.finished)
    const refresh = Snapshot.status.pipe(
      Effect.catchAll((error: StorageError) => Effect.logWarning(`metrics not refreshed: ${error.message}`))
    )
    yield* Effect.forkScoped(Effect.zipRight(refresh, Effect.forever(Effect.zipRight(Queue.take(finished), refresh))))
  })
)

/**
 * The HTTP side: API, documents, status page, problem documents, on the given server.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerHttp: Layer.Layer<
  never,
  never,
  | HttpServer.HttpServer
  | HttpRouter.HttpRouter.DefaultServices
  | Environment.Current
  | Tasks.Tasks
  | AuthThrottle.AuthThrottle
  | Prometheus.Prometheus
> = HttpApiBuilder.serve().pipe(
  Layer.provide([
    HttpApiBuilder.middlewareOpenApi({ path: "/v1/openapi.json" }),
    HttpApiScalar.layer({ path: "/v1/docs" }),
    StatusPage.layer,
    problems
  ]),
  Layer.provide(Handlers.layer),
  Layer.provide(Auth.layer),
  Layer.provide(Layer.succeed(HttpIncomingMessage.MaxBodySize, Option.some(FileSystem.Size(64 * 1024))))
)

/**
 * The whole server, listening on `listen` (or `server.listen`). Its output is the HTTP server (for
 * its address), the configuration in use and the task queue.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<
  HttpServer.HttpServer | Environment.Current | Tasks.Tasks,
  Environment.LoadError | StartError | StorageError
> => {
  const listening = Layer.unwrapEffect(
    Effect.gen(function*() {
      const active = yield* Effect.flatMap(Environment.Current, (current) => current.get)
      const text = options.listen ?? active.server.listen
      const listen = parseListen(text)
      if (listen === undefined) {
        return yield* Effect.fail<StartError>({
          message: `--listen ${text}: not a listen address; write host:port, e.g. 127.0.0.1:8555 or [::1]:8555`
        })
      }
      return NodeHttpServer.layer(() => createServer({ keepAliveTimeout: 5_000 }), listen).pipe(
        Layer.mapError((error: HttpServerError.ServeError): StartError => ({
          message: `cannot listen on ${text}: ${error.cause instanceof Error ? error.cause.message : String(error.cause)}`
        })),
        Layer.tap((context) =>
          Effect.logInfo(`listening on ${HttpServer.formatAddress(context.unsafeMap.get(HttpServer.HttpServer.key).address)}`)
        )
      )
    })
  )
  const core = Layer.mergeAll(
    Tasks.layer({ drainTimeout: options.drainTimeout }),
    AuthThrottle.layer(options.throttle),
    Prometheus.layer
  ).pipe(Layer.provideMerge(Environment.layer(options.load)))
  const background = Layer.mergeAll(
    Scheduler.layer,
    refreshMetrics,
    options.reloadSignal === false ? Layer.empty : reloadOn(options.reloadSignal ?? "SIGHUP")
  )
  return Layer.mergeAll(layerHttp, background).pipe(
    Layer.provideMerge(listening),
    Layer.provideMerge(core)
  )
}
