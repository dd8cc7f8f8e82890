/**
 * Test support: an AcmeProtocol wired to a real Pebble, a log of every HTTP exchange, and the
 * usual flows (account, order, challenge through challtestsrv, finalize, download).
 */
import { Pebble, PebbleHttpClient } from "@acme/testing"
import {
  type Account,
  AccountKey,
  AcmeProtocol,
  Authorization,
  type Certificate,
  CertificateKey,
  ChallengeResponse,
  Csr,
  type Directory,
  type Identifier,
  type Nonce,
  type Order
} from "@acme/sdk"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { Clock, Context, Effect, Layer, Ref } from "effect"

export interface LoggedRequest {
  readonly method: string
  readonly url: string
  readonly status: number
  readonly replayNonce: string | undefined
  /** the JWS payload of a POST, decoded (undefined for POST-as-GET and other methods) */
  readonly payload: unknown
  /** the nonce in the JWS protected header of a POST */
  readonly nonce: string | undefined
  /** Clock time of the answer (the TestClock's, in tests that use it) */
  readonly at: number
}

export class RequestLog extends Context.Tag("test/RequestLog")<RequestLog, Ref.Ref<ReadonlyArray<LoggedRequest>>>() {}

const decodeSegment = (segment: unknown): unknown => {
  if (typeof segment !== "string" || segment.length === 0) return undefined
  return JSON.parse(Buffer.from(segment, "base64url").toString("utf8"))
}

const decodeJws = (body: unknown): { payload: unknown; nonce: string | undefined } => {
  if (typeof body !== "object" || body === null) return { payload: undefined, nonce: undefined }
  const jws = body as Record<string, unknown> // test helper: shape checked field by field below
  const header = decodeSegment(jws.protected)
  const nonce = typeof header === "object" && header !== null && "nonce" in header && typeof header.nonce === "string"
    ? header.nonce
    : undefined
  return { payload: decodeSegment(jws.payload), nonce }
}

/**
 * An answer the test client gives instead of the CA, for the next `times` matching requests: a
 * rate limit, a refusal the CA would give in other circumstances. Everything else goes to Pebble.
 */
export interface Fault {
  readonly method: string
  readonly url: (url: string) => boolean
  readonly payload?: ((payload: unknown) => boolean) | undefined
  readonly times: number
  readonly respond: () => Response
}

export class Faults extends Context.Tag("test/Faults")<Faults, Ref.Ref<ReadonlyArray<Fault>>>() {}

export const faultsLayer = Layer.effect(Faults, Ref.make<ReadonlyArray<Fault>>([]))

export const inject = (fault: Fault) => Effect.flatMap(Faults, (faults) => Ref.update(faults, (all) => [...all, fault]))

/** Forgets the faults not used up, so that they do not reach the next test. */
export const clearFaults = Effect.flatMap(Faults, (faults) => Ref.set(faults, []))

/** Wraps the HttpClient in context so that every exchange lands in the RequestLog (and faults apply). */
export const recordingHttpClient: Layer.Layer<HttpClient.HttpClient, never, HttpClient.HttpClient | RequestLog | Faults> =
  Layer.effect(
    HttpClient.HttpClient,
    Effect.gen(function*() {
      const client = yield* HttpClient.HttpClient
      const log = yield* RequestLog
      const faults = yield* Faults
      return HttpClient.make((request) =>
        Effect.gen(function*() {
          const body = request.body._tag === "Uint8Array"
            ? JSON.parse(new TextDecoder().decode(request.body.body))
            : undefined
          const { nonce, payload } = decodeJws(body)
          const all = yield* Ref.get(faults)
          const index = all.findIndex((f) =>
            f.times > 0 && f.method === request.method && f.url(request.url) && (f.payload?.(payload) ?? true)
          )
          const fault = all[index]
          if (fault !== undefined) {
            yield* Ref.set(faults, all.map((f, i) => (i === index ? { ...f, times: f.times - 1 } : f)))
          }
          const response = fault !== undefined
            ? HttpClientResponse.fromWeb(request, fault.respond())
            : yield* client.execute(request)
          const at = yield* Clock.currentTimeMillis
          yield* Ref.update(log, (entries) => [...entries, {
            method: request.method,
            url: request.url,
            status: response.status,
            replayNonce: response.headers["replay-nonce"],
            payload,
            nonce,
            at
          }])
          return response
        })
      )
    })
  )

export const requestLogLayer = Layer.effect(RequestLog, Ref.make<ReadonlyArray<LoggedRequest>>([]))

/**
 * Pebble, an HttpClient that trusts it (and records), and an AcmeProtocol pointed at it.
 */
export const pebbleProtocol = (
  options: Pebble.PebbleOptions = {},
  protocol: Omit<AcmeProtocol.AcmeProtocol.Options, "directoryUrl"> = {}
): Layer.Layer<AcmeProtocol.AcmeProtocol | Pebble.Pebble | RequestLog | Faults, unknown> => {
  const acme = Layer.unwrapEffect(
    Effect.map(Pebble.Pebble, (pebble) =>
      AcmeProtocol.layer({ directoryUrl: pebble.directoryUrl, pollInterval: "50 millis", ...protocol }))
  )
  return acme.pipe(
    Layer.provide(recordingHttpClient),
    Layer.provideMerge(Layer.merge(requestLogLayer, faultsLayer)),
    Layer.provide(PebbleHttpClient.layer),
    Layer.provideMerge(Pebble.layer(options))
  )
}

export const requests = Effect.flatMap(RequestLog, Ref.get)

/** A new account with terms agreed; returns what the next calls need. */
export const newAccount = (options: {
  readonly algorithm?: AccountKey.Algorithm
  readonly contact?: ReadonlyArray<string>
} = {}) =>
  Effect.gen(function*() {
    const acme = yield* AcmeProtocol.AcmeProtocol
    const directory = yield* acme.directory
    const key = yield* AccountKey.generate(options.algorithm ?? "ES256")
    const nonce = yield* acme.newNonce(directory)
    const created = yield* acme.newAccount({
      directory,
      nonce,
      key,
      termsOfServiceAgreed: true,
      contact: options.contact ?? ["mailto:ops@example.test"]
    })
    return {
      directory,
      key,
      account: { key, url: created.value.url },
      created: created.value,
      nonce: created.nonce
    }
  })

export interface Session {
  readonly directory: Directory.Directory
  readonly account: Account.AccountRef
  readonly nonce: Nonce.Nonce
}

export type ChallengeKind = "http-01" | "dns-01" | "tls-alpn-01"

/** Puts the response for a challenge where challtestsrv serves it. */
export const present = (
  authorization: Authorization.Authorization,
  type: ChallengeKind,
  accountKey: AccountKey.AccountKey
) =>
  Effect.gen(function*() {
    const pebble = yield* Pebble.Pebble
    const challenge = yield* Authorization.selectChallenge(authorization, type)
    const keyAuthorization = ChallengeResponse.keyAuthorization(challenge.token ?? "", accountKey)
    switch (type) {
      case "http-01":
        yield* pebble.addHttp01(challenge.token ?? "", keyAuthorization)
        break
      case "dns-01":
        yield* pebble.setTxt(
          ChallengeResponse.dns01RecordName(authorization.identifier),
          yield* ChallengeResponse.dns01TxtValue(keyAuthorization)
        )
        break
      case "tls-alpn-01":
        yield* pebble.addTlsAlpn01(authorization.identifier.value, keyAuthorization)
        break
    }
    return challenge
  })

/** Fetches every authorization of an order, answers the pending ones with `type`, waits for them. */
export const authorize = (session: Session, order: Order.Order, type: ChallengeKind) =>
  Effect.gen(function*() {
    const acme = yield* AcmeProtocol.AcmeProtocol
    let nonce = session.nonce
    for (const url of order.authorizations) {
      const authorization = yield* acme.getAuthorization({ nonce, account: session.account, url })
      nonce = authorization.nonce
      if (authorization.value.status === "valid") continue
      const challenge = yield* present(authorization.value, type, session.account.key)
      const responded = yield* acme.respondToChallenge({ nonce, account: session.account, url: challenge.url })
      nonce = responded.nonce
      const done = yield* acme.pollAuthorization({ nonce, account: session.account, url })
      nonce = done.nonce
    }
    return nonce
  })

/** The whole issuance: order, authorize, finalize with a fresh key, download. */
export const issue = (
  session: Session,
  options: {
    readonly identifiers: ReadonlyArray<Identifier.Identifier>
    readonly challenge?: ChallengeKind
    readonly keyType?: CertificateKey.KeyType
    readonly preferredIssuer?: string
  }
) =>
  Effect.gen(function*() {
    const acme = yield* AcmeProtocol.AcmeProtocol
    const ordered = yield* acme.newOrder({
      directory: session.directory,
      nonce: session.nonce,
      account: session.account,
      order: { identifiers: options.identifiers }
    })
    let nonce = yield* authorize({ ...session, nonce: ordered.nonce }, ordered.value, options.challenge ?? "http-01")
    const ready = yield* acme.pollOrder({ nonce, account: session.account, url: ordered.value.url, until: "ready" })
    const key = yield* CertificateKey.generate(options.keyType ?? "ec-p256")
    const csr = yield* Csr.create({ key, identifiers: options.identifiers })
    const finalized = yield* acme.finalize({ nonce: ready.nonce, account: session.account, order: ready.value, csr })
    const valid = yield* acme.pollOrder({
      nonce: finalized.nonce,
      account: session.account,
      url: ordered.value.url,
      until: "valid"
    })
    nonce = valid.nonce
    const download = yield* acme.downloadCertificate({
      nonce,
      account: session.account,
      url: valid.value.certificate ?? "",
      preferredIssuer: options.preferredIssuer
    })
    const leaf: Certificate.Certificate = download.value.chain.certificates[0]
    return { order: valid.value, key, leaf, download: download.value, nonce: download.nonce }
  })
