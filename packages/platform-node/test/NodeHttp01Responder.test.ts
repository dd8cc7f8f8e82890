import { NodeHttp01Responder } from "@acme/platform-node"
import { ChallengeSolver } from "@acme/sdk"
import { FileSystem, Path } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Exit, Layer, List, Logger, LogLevel, Ref, Scope } from "effect"
import * as os from "node:os"
import { freePort, get, occupy, task } from "./support.js"

const Responder = NodeHttp01Responder.layer.pipe(Layer.provideMerge(NodeContext.layer))

const tokenA = "tokenAAAA-_a"
const tokenB = "tokenBBBB-_b"
const at = (port: number, token: string, host = "127.0.0.1") => `http://${host}:${port}/.well-known/acme-challenge/${token}`

const hasIpv6Loopback = Object.values(os.networkInterfaces()).some((addresses) =>
  (addresses ?? []).some((address) => address.family === "IPv6" && address.address === "::1")
)

describe("NodeHttp01Responder", () => {
  describe("standalone server", () => {
    it.live("serves each token's key authorization as text/plain, 404 for the rest; stops with its last token", () =>
      Effect.gen(function*() {
        const responder = yield* ChallengeSolver.Http01Responder
        const port = yield* freePort
        const config = { type: "http-01" as const, port, address: "127.0.0.1" }
        const a = task({ token: tokenA, keyAuthorization: `${tokenA}.thumb`, config })
        const b = task({ token: tokenB, keyAuthorization: `${tokenB}.thumb`, config, identifier: { type: "dns", value: "b.example.org" } })

        yield* responder.present(a)
        expect(yield* get(at(port, tokenA))).toEqual({ status: 200, contentType: "text/plain", body: `${tokenA}.thumb` })
        expect((yield* get(at(port, tokenB))).status).toBe(404)
        expect((yield* get(`http://127.0.0.1:${port}/`)).status).toBe(404)
        expect((yield* get(`http://127.0.0.1:${port}/.well-known/acme-challenge/`)).status).toBe(404)
        expect((yield* get(at(port, tokenA), "POST")).status).toBe(404)
        const head = yield* get(at(port, tokenA), "HEAD")
        expect([head.status, head.body]).toEqual([200, ""])

        // a second token on the same port shares the server
        yield* responder.present(b)
        expect((yield* get(at(port, tokenB))).body).toBe(`${tokenB}.thumb`)
        yield* responder.cleanup(a)
        expect((yield* get(at(port, tokenA))).status).toBe(404)
        expect((yield* get(at(port, tokenB))).status).toBe(200)
        yield* responder.cleanup(b)
        const refused = yield* Effect.flip(get(at(port, tokenB)))
        expect(refused.message).toMatch(/fetch failed/)
        // cleaning up twice is harmless
        yield* responder.cleanup(b)
      }).pipe(Effect.provide(Responder)))

    it.live("logs every request with the remote address", () =>
      Effect.gen(function*() {
        const logs = yield* Ref.make<ReadonlyArray<{ message: unknown; annotations: Record<string, unknown> }>>([])
        const capture = Logger.make(({ annotations, message }) => {
          const entries: Record<string, unknown> = {}
          for (const [key, value] of annotations) entries[key] = value
          Ref.update(logs, (all) => [...all, { message: List.isList(message) ? List.toArray(message) : message, annotations: entries }])
            .pipe(Effect.runSync)
        })
        const port = yield* freePort
        const t = task({ config: { type: "http-01", port, address: "127.0.0.1" } })
        yield* Effect.gen(function*() {
          const responder = yield* ChallengeSolver.Http01Responder
          yield* responder.present(t)
          yield* get(at(port, t.token))
          yield* get(at(port, "unknown"))
          yield* responder.cleanup(t)
        }).pipe(
          Effect.provide(Responder),
          Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
          Logger.withMinimumLogLevel(LogLevel.Debug)
        )
        const requests = (yield* Ref.get(logs)).filter((entry) => JSON.stringify(entry.message).includes("http-01 request"))
        expect(requests.map((entry) => [entry.annotations.status, entry.annotations.path])).toEqual([
          [200, `/.well-known/acme-challenge/${t.token}`],
          [404, "/.well-known/acme-challenge/unknown"]
        ])
        for (const entry of requests) expect(entry.annotations.remoteAddress).toMatch(/127\.0\.0\.1/)
      }))

    it.live("listens on every interface by default (IPv6 and IPv4)", () =>
      Effect.gen(function*() {
        const responder = yield* ChallengeSolver.Http01Responder
        const port = yield* freePort
        const t = task({ config: { type: "http-01", port } })
        yield* responder.present(t)
        expect((yield* get(at(port, t.token))).body).toBe(t.keyAuthorization)
        if (hasIpv6Loopback) expect((yield* get(at(port, t.token, "[::1]"))).body).toBe(t.keyAuthorization)
        yield* responder.cleanup(t)
      }).pipe(Effect.provide(Responder)))

    it.live("a port in use is PortInUse, naming the port", () =>
      Effect.gen(function*() {
        const responder = yield* ChallengeSolver.Http01Responder
        const port = yield* freePort
        yield* occupy(port)
        const error = yield* Effect.flip(responder.present(task({ config: { type: "http-01", port, address: "127.0.0.1" } })))
        expect(error._tag).toBe("ChallengeError")
        expect(error.reason).toBe("PortInUse")
        expect(error.challengeType).toBe("http-01")
        expect(error.identifier).toBe("example.org")
        expect(error.message).toContain(`port ${port}`)
        expect(error.message.split("\n")).toHaveLength(1)
      }).pipe(Effect.provide(Responder), Effect.scoped))

    it.live("an address that is not local is Io", () =>
      Effect.gen(function*() {
        const responder = yield* ChallengeSolver.Http01Responder
        const error = yield* Effect.flip(responder.present(task({ config: { type: "http-01", port: 8080, address: "192.0.2.1" } })))
        expect(error.reason).toBe("Io")
        expect(error.message).toContain("192.0.2.1")
      }).pipe(Effect.provide(Responder)))

    it.live("closing the Layer's scope stops its servers", () =>
      Effect.gen(function*() {
        const port = yield* freePort
        const t = task({ config: { type: "http-01", port, address: "127.0.0.1" } })
        const scope = yield* Scope.make()
        const context = yield* Layer.buildWithScope(Responder, scope)
        yield* Context.get(context, ChallengeSolver.Http01Responder).present(t)
        expect((yield* get(at(port, t.token))).status).toBe(200)
        yield* Scope.close(scope, Exit.void)
        yield* Effect.flip(get(at(port, t.token)))
      }))

    it.live("refuses a token that is not base64url", () =>
      Effect.gen(function*() {
        const responder = yield* ChallengeSolver.Http01Responder
        const error = yield* Effect.flip(responder.present(task({ token: "../../etc/passwd" })))
        expect(error.reason).toBe("Io")
        expect(error.message).toContain("base64url")
      }).pipe(Effect.provide(Responder)))
  })

  describe("webroot", () => {
    it.scoped("writes the file (0644) for the web server, and removes it and the folders it created", () =>
      Effect.gen(function*() {
        const responder = yield* ChallengeSolver.Http01Responder
        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        const webroot = yield* fs.makeTempDirectoryScoped({ prefix: "acme-webroot-" })
        const config = { type: "http-01" as const, webroot }
        const a = task({ token: tokenA, keyAuthorization: `${tokenA}.thumb`, config })
        const b = task({ token: tokenB, keyAuthorization: `${tokenB}.thumb`, config })
        const folder = path.join(webroot, ".well-known", "acme-challenge")

        yield* responder.present(a)
        yield* responder.present(b)
        expect(yield* fs.readFileString(path.join(folder, tokenA))).toBe(`${tokenA}.thumb`)
        expect(yield* fs.readFileString(path.join(folder, tokenB))).toBe(`${tokenB}.thumb`)
        expect((yield* fs.stat(path.join(folder, tokenA))).mode & 0o777).toBe(0o644)
        expect((yield* fs.stat(folder)).mode & 0o777).toBe(0o755)
        expect((yield* fs.stat(path.join(webroot, ".well-known"))).mode & 0o777).toBe(0o755)
        expect((yield* fs.readDirectory(folder)).sort()).toEqual([tokenA, tokenB])

        yield* responder.cleanup(a)
        expect(yield* fs.readDirectory(folder)).toEqual([tokenB])
        yield* responder.cleanup(b)
        expect(yield* fs.readDirectory(webroot)).toEqual([])
      }).pipe(Effect.provide(Responder)))

    it.scoped("keeps folders that were there before", () =>
      Effect.gen(function*() {
        const responder = yield* ChallengeSolver.Http01Responder
        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        const webroot = yield* fs.makeTempDirectoryScoped({ prefix: "acme-webroot-" })
        yield* fs.makeDirectory(path.join(webroot, ".well-known"))
        yield* fs.writeFileString(path.join(webroot, ".well-known", "security.txt"), "Contact: ops@example.org\n")
        const t = task({ config: { type: "http-01", webroot } })
        yield* responder.present(t)
        yield* responder.cleanup(t)
        expect(yield* fs.readDirectory(path.join(webroot, ".well-known"))).toEqual(["security.txt"])

        // an acme-challenge folder of the web server's own stays too
        yield* fs.makeDirectory(path.join(webroot, ".well-known", "acme-challenge"))
        yield* responder.present(t)
        yield* responder.cleanup(t)
        expect(yield* fs.readDirectory(path.join(webroot, ".well-known", "acme-challenge"))).toEqual([])
      }).pipe(Effect.provide(Responder)))

    it.scoped("a webroot that does not exist is Io", () =>
      Effect.gen(function*() {
        const responder = yield* ChallengeSolver.Http01Responder
        const error = yield* Effect.flip(
          responder.present(task({ config: { type: "http-01", webroot: "/nonexistent/acme-webroot" } }))
        )
        expect(error.reason).toBe("Io")
        expect(error.message).toContain("/nonexistent/acme-webroot")
      }).pipe(Effect.provide(Responder)))
  })
})
