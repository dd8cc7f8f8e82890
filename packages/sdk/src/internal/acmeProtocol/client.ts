/**
 * The unsigned side of the protocol: the transport configured from the options, answers checked
 * for status, URLs and required headers, the directory and newNonce.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { InvalidResponse, type ProtocolError } from "../../AcmeError.js"
import { Directory } from "../../Directory.js"
import type { Nonce } from "../../Nonce.js"
import type { Exchange, Method } from "../exchange.js"
import { makeTransport, type Transport } from "../http.js"
import { problem } from "../problemDocument.js"
import { decodeJson, location, replayNonce } from "../response.js"
import type { Options } from "./service.js"

/** @internal */
export interface Client {
  readonly directoryUrl: string
  readonly transport: Transport
  /** checks every URL an answer handed out (see `Transport.checkUrl`) */
  readonly checkUrls: (exchange: Exchange, urls: ReadonlyArray<string | undefined>) => Effect.Effect<void, InvalidResponse>
  /** a request that is not signed: errors become problems, success is returned as is */
  readonly plain: (method: Method, url: string, operation: string) => Effect.Effect<Exchange, ProtocolError>
  /** GET the directory */
  readonly directory: Effect.Effect<Directory, ProtocolError>
  /** HEAD newNonce */
  readonly newNonce: (directory: Directory) => Effect.Effect<Nonce, ProtocolError>
}

/** @internal */
export const expectStatus = (
  exchange: Exchange,
  accepted: ReadonlyArray<number>
): Effect.Effect<Exchange, InvalidResponse> =>
  accepted.includes(exchange.status)
    ? Effect.succeed(exchange)
    : Effect.fail(
      new InvalidResponse({
        reason: "UnexpectedStatus",
        method: exchange.method,
        url: exchange.url,
        status: exchange.status,
        description: `expected HTTP ${accepted.join(" or ")}`
      })
    )

/** @internal */
export const requireLocation = (
  client: Client,
  exchange: Exchange,
  what: string
): Effect.Effect<string, InvalidResponse> => {
  const url = location(exchange)
  return url !== undefined
    ? client.transport.checkUrl(url, { method: exchange.method, from: exchange.url })
    : Effect.fail(
      new InvalidResponse({
        reason: "MissingLocation",
        method: exchange.method,
        url: exchange.url,
        status: exchange.status,
        description: `the answer has no Location header with the ${what} URL`
      })
    )
}

/** @internal */
export const requireEndpoint = (
  client: Client,
  directory: Directory,
  name: "revokeCert" | "keyChange" | "renewalInfo"
): Effect.Effect<string, InvalidResponse> => {
  const url = directory[name]
  return url !== undefined
    ? Effect.succeed(url)
    : Effect.fail(
      new InvalidResponse({
        reason: "MissingEndpoint",
        method: "GET",
        url: client.directoryUrl,
        description: `the directory has no ${name} endpoint, so the CA does not support this operation`
      })
    )
}

/** @internal */
export const makeClient = (http: HttpClient.HttpClient, options: Options): Client => {
  const directoryUrl = options.directoryUrl
  const transport = makeTransport(http, {
    directoryUrl,
    requestTimeout: Duration.decode(options.requestTimeout ?? "30 seconds"),
    maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
    userAgent: options.userAgent ?? "acme-effect/0.1.0 (@acme/sdk; +https://www.rfc-editor.org/rfc/rfc8555)"
  })

  const checkUrls: Client["checkUrls"] = (exchange, urls) =>
    Effect.forEach(
      urls.filter((url): url is string => url !== undefined),
      (url) => transport.checkUrl(url, { method: exchange.method, from: exchange.url }),
      { discard: true }
    )

  const plain: Client["plain"] = (method, url, operation) =>
    transport.send({ method, url, operation }).pipe(
      Effect.flatMap((exchange) => exchange.status >= 400 ? Effect.flip(problem(exchange)) : Effect.succeed(exchange))
    )

  const directory: Client["directory"] = Effect.gen(function*() {
    const exchange = yield* plain("GET", directoryUrl, "directory").pipe(Effect.flatMap((x) => expectStatus(x, [200])))
    const decoded = yield* decodeJson(exchange, Directory, "MalformedDirectory")
    yield* checkUrls(exchange, [
      decoded.newNonce,
      decoded.newAccount,
      decoded.newOrder,
      decoded.newAuthz,
      decoded.revokeCert,
      decoded.keyChange,
      decoded.renewalInfo
    ])
    return decoded
  }).pipe(Effect.withSpan("AcmeProtocol.directory"))

  const newNonce: Client["newNonce"] = (dir) =>
    plain("HEAD", dir.newNonce, "newNonce").pipe(
      Effect.flatMap((exchange) => expectStatus(exchange, [200, 204])),
      Effect.flatMap((exchange) => {
        const nonce = replayNonce(exchange)
        return nonce !== undefined
          ? Effect.succeed(nonce)
          : Effect.fail(
            new InvalidResponse({
              reason: "MissingNonce",
              method: exchange.method,
              url: exchange.url,
              status: exchange.status,
              description: "the newNonce answer has no valid Replay-Nonce header"
            })
          )
      }),
      Effect.withSpan("AcmeProtocol.newNonce")
    )

  return { directoryUrl, transport, checkUrls, plain, directory, newNonce }
}
