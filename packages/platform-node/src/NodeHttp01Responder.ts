/**
 * Answers http-01 challenges (RFC 8555 §8.3) on Node, in one of two ways, chosen by the
 * certificate's challenge configuration:
 *
 * - `webroot`: the key authorization is written to
 *   `<webroot>/.well-known/acme-challenge/<token>` (mode 0644, atomically) for a web server that
 *   already runs, and removed on cleanup, together with the folders it had to create.
 * - otherwise a server of its own on `address` (default: every interface, `::` or `0.0.0.0` where
 *   there is no IPv6) and `port` (default 80), answering `GET /.well-known/acme-challenge/<token>`
 *   with the key authorization as `text/plain` and 404 for anything else. One server per address
 *   and port, started by the first `present` for it and stopped when its last token is cleaned up,
 *   or when the Layer's scope closes.
 *
 * @since 0.1.0
 */
import * as ChallengeResponse from "@acme/sdk/ChallengeResponse"
import * as ChallengeSolver from "@acme/sdk/ChallengeSolver"
import type * as PlatformError from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import * as http from "node:http"
import * as internal from "./internal/challengeServer.js"

const publicFileMode = 0o644
const publicFolderMode = 0o755

/** tokens are base64url (RFC 8555 §8.1): nothing else may become a file name */
const isToken = (token: string): boolean => /^[A-Za-z0-9_-]{1,256}$/.test(token)

const http01Config = (task: ChallengeSolver.ChallengeTask) => task.config.type === "http-01" ? task.config : undefined

/**
 * The responder; its servers are stopped when the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<ChallengeSolver.Responder, never, FileSystem.FileSystem | Path.Path | Scope.Scope> =
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const runFork = Runtime.runFork(yield* Effect.runtime<never>())
    const pool = yield* internal.makePool<string>()
    const webrootLock = yield* Effect.makeSemaphore(1)
    /** folders this responder created in webroots, removed again when empty */
    const createdFolders = new Set<string>()

    // -- standalone server ----------------------------------------------------------------------

    const startServer = (task: ChallengeSolver.ChallengeTask, endpoint: internal.Endpoint) =>
    (registrations: ReadonlyMap<string, string>) =>
      Effect.gen(function*() {
        const server = http.createServer((request, response) => {
          const pathname = (request.url ?? "/").split("?")[0] ?? "/"
          const isRead = request.method === "GET" || request.method === "HEAD"
          const body = isRead ? registrations.get(pathname) : undefined
          if (body === undefined) {
            response.writeHead(404, { "content-type": "text/plain" }).end("not found\n")
          } else {
            response
              .writeHead(200, { "content-type": "text/plain", "content-length": Buffer.byteLength(body) })
              .end(request.method === "HEAD" ? undefined : body)
          }
          runFork(
            Effect.logDebug("http-01 request").pipe(
              Effect.annotateLogs({
                remoteAddress: request.socket.remoteAddress ?? "unknown",
                method: request.method ?? "",
                path: pathname,
                host: request.headers.host ?? "",
                status: body === undefined ? 404 : 200
              })
            )
          )
        })
        const sockets = internal.trackConnections(server)
        yield* internal.listen(server, endpoint, task)
        yield* Effect.logDebug(`http-01 server listening on ${internal.describeEndpoint(endpoint)}`)
        return internal.closeServer(server, sockets).pipe(
          Effect.zipRight(Effect.logDebug(`http-01 server on ${internal.describeEndpoint(endpoint)} stopped`))
        )
      })

    const endpointOf = (task: ChallengeSolver.ChallengeTask): internal.Endpoint => {
      const config = http01Config(task)
      return { port: config?.port ?? 80, address: config?.address }
    }

    // -- webroot --------------------------------------------------------------------------------

    const ioError = (task: ChallengeSolver.ChallengeTask, file: string) => (error: PlatformError.PlatformError) =>
      internal.challengeError(
        task,
        error._tag === "SystemError" && error.reason === "PermissionDenied" ? "PermissionDenied" : "Io",
        `cannot write ${file}: ${internal.oneLine(error.message)}`
      )

    const folders = (webroot: string) => {
      const wellKnown = path.join(webroot, ".well-known")
      return { wellKnown, challenges: path.join(wellKnown, "acme-challenge") }
    }

    const ensureFolder = (task: ChallengeSolver.ChallengeTask, folder: string) =>
      Effect.gen(function*() {
        if (yield* Effect.mapError(fs.exists(folder), ioError(task, folder))) return
        yield* Effect.mapError(fs.makeDirectory(folder, { mode: publicFolderMode }), ioError(task, folder))
        createdFolders.add(folder)
        // readable by the web server whatever the umask
        yield* Effect.mapError(fs.chmod(folder, publicFolderMode), ioError(task, folder))
      })

    const presentInWebroot = (task: ChallengeSolver.ChallengeTask, webroot: string) =>
      webrootLock.withPermits(1)(Effect.gen(function*() {
        const isFolder = yield* fs.stat(webroot).pipe(
          Effect.map((info) => info.type === "Directory"),
          Effect.orElseSucceed(() => false)
        )
        if (!isFolder) {
          return yield* internal.challengeError(task, "Io", `the webroot ${webroot} is not a folder`)
        }
        const { challenges, wellKnown } = folders(webroot)
        yield* ensureFolder(task, wellKnown)
        yield* ensureFolder(task, challenges)
        const file = path.join(challenges, task.token)
        const suffix = Encoding.encodeHex(globalThis.crypto.getRandomValues(new Uint8Array(8)))
        const temp = path.join(challenges, `.${task.token}.tmp-${suffix}`)
        yield* Effect.gen(function*() {
          yield* Effect.scoped(Effect.gen(function*() {
            const handle = yield* fs.open(temp, { flag: "wx", mode: publicFileMode })
            yield* handle.writeAll(new TextEncoder().encode(task.keyAuthorization))
            yield* handle.sync
          }))
          yield* fs.chmod(temp, publicFileMode)
          yield* fs.rename(temp, file)
        }).pipe(
          Effect.mapError(ioError(task, file)),
          Effect.onExit((exit) => Exit.isSuccess(exit) ? Effect.void : Effect.ignore(fs.remove(temp)))
        )
        yield* Effect.logDebug(`http-01 response for ${task.identifier.value} written to ${file}`)
      }))

    const removeFolderIfEmpty = (folder: string) =>
      Effect.gen(function*() {
        if (!createdFolders.has(folder)) return
        const entries = yield* fs.readDirectory(folder)
        if (entries.length > 0) return
        // empty (just checked); the platform removes folders only "recursively"
        yield* fs.remove(folder, { recursive: true })
        createdFolders.delete(folder)
      })

    const cleanupWebroot = (task: ChallengeSolver.ChallengeTask, webroot: string) =>
      webrootLock.withPermits(1)(Effect.gen(function*() {
        const { challenges, wellKnown } = folders(webroot)
        const file = path.join(challenges, task.token)
        yield* fs.remove(file).pipe(
          Effect.catchIf((error) => error._tag === "SystemError" && error.reason === "NotFound", () => Effect.void)
        )
        yield* removeFolderIfEmpty(challenges)
        yield* removeFolderIfEmpty(wellKnown)
      })).pipe(
        Effect.catchAll((error) =>
          Effect.logWarning(`could not remove the http-01 response for ${task.identifier.value}: ${error.message}`)
        )
      )

    // -- the responder --------------------------------------------------------------------------

    const checkToken = (task: ChallengeSolver.ChallengeTask) =>
      isToken(task.token)
        ? Effect.void
        : Effect.fail(internal.challengeError(task, "Io", `the CA's token ${JSON.stringify(task.token)} is not base64url`))

    return ChallengeSolver.Http01Responder.of({
      present: (task) =>
        Effect.gen(function*() {
          yield* checkToken(task)
          const webroot = http01Config(task)?.webroot
          if (webroot !== undefined) return yield* presentInWebroot(task, webroot)
          const endpoint = endpointOf(task)
          yield* pool.register(
            endpoint,
            ChallengeResponse.http01Path(task.token),
            task.keyAuthorization,
            startServer(task, endpoint)
          )
        }).pipe(Effect.withSpan("NodeHttp01Responder.present", { attributes: { identifier: task.identifier.value } })),
      cleanup: (task) =>
        Effect.suspend(() => {
          if (!isToken(task.token)) return Effect.void
          const webroot = http01Config(task)?.webroot
          return webroot !== undefined
            ? cleanupWebroot(task, webroot)
            : pool.unregister(
              endpointOf(task),
              ChallengeResponse.http01Path(task.token),
              (keyAuthorization) => keyAuthorization === task.keyAuthorization
            )
        }).pipe(Effect.withSpan("NodeHttp01Responder.cleanup", { attributes: { identifier: task.identifier.value } }))
    })
  })

/**
 * The http-01 responder as a scoped Layer: servers still running when its scope closes are
 * stopped. Needs the platform's FileSystem and Path (for webroots): `NodeContext.layer`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<ChallengeSolver.Http01Responder, never, FileSystem.FileSystem | Path.Path> = Layer
  .scoped(ChallengeSolver.Http01Responder, make)
