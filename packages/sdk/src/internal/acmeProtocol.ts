import * as HttpClient from "@effect/platform/HttpClient"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import * as Schedule from "effect/Schedule"
import { base64url } from "jose"
import type { Account, AccountRef } from "../Account.js"
import { AccountBody } from "../Account.js"
import {
  AuthorizationFailed,
  type BadNonce,
  InvalidResponse,
  OrderFailed,
  PollTimeout,
  type ProtocolError
} from "../AcmeError.js"
import type { AcmeProtocol } from "../AcmeProtocol.js"
import { type Authorization, AuthorizationBody, Challenge } from "../Authorization.js"
import * as Certificate from "../Certificate.js"
import * as Csr from "../Csr.js"
import { Directory } from "../Directory.js"
import * as Jws from "../Jws.js"
import type { Nonce, Signed } from "../Nonce.js"
import { type Order, OrderBody } from "../Order.js"
import { RenewalInfoBody } from "../RenewalInfo.js"
import * as RevocationReason from "../RevocationReason.js"
import {
  bodyText,
  decodeJson,
  type Exchange,
  links,
  location,
  makeTransport,
  type Method,
  problem,
  replayNonce,
  retryAfter
} from "./http.js"
import { isNonce } from "../Nonce.js"

const PEM_CHAIN = "application/pem-certificate-chain"

interface Signer {
  readonly key: Jws.SigningKey
  readonly kid?: string | undefined
}

const accountSigner = (account: AccountRef): Signer => ({ key: account.key, kid: account.url })

/** One step of a poll: the resource, the nonce for the next request, and when to ask again. */
interface PollStep<A> {
  readonly value: A
  readonly nonce: Nonce
  readonly retryAfter: Duration.Duration | undefined
  readonly done: boolean
  /** Clock time of the answer, in milliseconds */
  readonly at: number
}

/**
 * The schedule of a poll: waits grow from `interval` by half each time up to `maxInterval`, a
 * `Retry-After` from the CA replaces the computed wait, and polling stops when the resource is done
 * or when the next wait would end after the deadline.
 *
 * @internal
 */
export const pollSchedule = <A>(options: {
  readonly interval: Duration.Duration
  readonly maxInterval: Duration.Duration
  readonly deadline: number
}): Schedule.Schedule<PollStep<A>, PollStep<A>> => {
  const wait = (backoff: Duration.Duration, step: PollStep<A>): Duration.Duration =>
    step.retryAfter ?? Duration.min(backoff, options.maxInterval)
  return Schedule.exponential(options.interval, 1.5).pipe(
    Schedule.intersect(Schedule.identity<PollStep<A>>()),
    Schedule.whileOutput(([backoff, step]) =>
      !step.done && step.at + Duration.toMillis(wait(backoff, step)) <= options.deadline
    ),
    Schedule.modifyDelay(([backoff, step]) => wait(backoff, step)),
    Schedule.map(([, step]) => step)
  )
}

/** @internal */
export const make = Effect.fnUntraced(function*(options: AcmeProtocol.Options) {
  const client = yield* HttpClient.HttpClient
  const directoryUrl = options.directoryUrl
  // a CA that rejects 90% of nonces still lets 98.7% of requests through within one call
  const badNonceRetries = options.badNonceRetries ?? 40
  const pollInterval = Duration.decode(options.pollInterval ?? "250 millis")
  const maxPollInterval = Duration.decode(options.maxPollInterval ?? "10 seconds")
  const pollTimeout = Duration.decode(options.pollTimeout ?? "3 minutes")
  const transport = makeTransport(client, {
    directoryUrl,
    requestTimeout: Duration.decode(options.requestTimeout ?? "30 seconds"),
    maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
    userAgent: options.userAgent ?? "acme-effect/0.1.0 (@acme/sdk; +https://www.rfc-editor.org/rfc/rfc8555)"
  })

  const checkUrls = (exchange: Exchange, urls: ReadonlyArray<string | undefined>) =>
    Effect.forEach(
      urls.filter((url): url is string => url !== undefined),
      (url) => transport.checkUrl(url, { method: exchange.method, from: exchange.url }),
      { discard: true }
    )

  const expectStatus = (exchange: Exchange, accepted: ReadonlyArray<number>) =>
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

  /** A request that is not signed: errors become problems, success is returned as is. */
  const plain = (method: Method, url: string, operation: string) =>
    transport.send({ method, url, operation }).pipe(
      Effect.flatMap((exchange) => exchange.status >= 400 ? Effect.flip(problem(exchange)) : Effect.succeed(exchange))
    )

  const directory: Effect.Effect<Directory, ProtocolError> = Effect.gen(function*() {
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

  const newNonce = (dir: Directory): Effect.Effect<Nonce, ProtocolError> =>
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

  /** A nonce when a badNonce answer came without one: directory, then newNonce. */
  const freshNonce = Effect.flatMap(directory, newNonce)

  /**
   * A signed POST (RFC 8555 §6.2). `badNonce` answers are retried with the nonce that came with
   * them, at most `badNonceRetries` times; every other error response fails with its problem,
   * which carries the response's nonce so that the caller can go on.
   */
  const signedPost = (request: {
    readonly url: string
    readonly nonce: Nonce
    readonly signer: Signer
    readonly payload: unknown
    readonly operation: string
    readonly accept?: string | undefined
  }): Effect.Effect<{ readonly exchange: Exchange; readonly nonce: Nonce }, ProtocolError> =>
    Effect.gen(function*() {
      const current = yield* Ref.make(request.nonce)
      const attempt = Effect.gen(function*() {
        const jws = yield* Jws.sign({
          key: request.signer.key,
          kid: request.signer.kid,
          nonce: yield* Ref.get(current),
          url: request.url,
          payload: request.payload
        })
        const exchange = yield* transport.send({
          method: "POST",
          url: request.url,
          body: JSON.stringify(jws),
          contentType: "application/jose+json",
          accept: request.accept,
          operation: request.operation
        })
        if (exchange.status >= 400) {
          const error = yield* problem(exchange)
          if (error._tag === "BadNonce") {
            yield* Ref.set(current, isNonce(error.nonce) ? error.nonce : yield* freshNonce)
          }
          return yield* Effect.fail(error)
        }
        const nonce = replayNonce(exchange)
        if (nonce === undefined) {
          return yield* new InvalidResponse({
            reason: "MissingNonce",
            method: "POST",
            url: request.url,
            status: exchange.status,
            description: "a successful POST answer must carry a Replay-Nonce header (RFC 8555 §6.5)"
          })
        }
        return { exchange, nonce }
      })
      return yield* Effect.retry(attempt, {
        times: badNonceRetries,
        while: (error: ProtocolError): error is BadNonce => error._tag === "BadNonce"
      })
    })

  const requireLocation = (exchange: Exchange, what: string) => {
    const url = location(exchange)
    return url !== undefined
      ? transport.checkUrl(url, { method: exchange.method, from: exchange.url })
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

  const decodeAccount = (exchange: Exchange, url: string) =>
    Effect.map(decodeJson(exchange, AccountBody), (body): Account => ({
      url,
      status: body.status,
      contact: body.contact ?? [],
      termsOfServiceAgreed: body.termsOfServiceAgreed,
      orders: body.orders,
      created: exchange.status === 201
    }))

  const decodeOrder = (exchange: Exchange, url: string) =>
    Effect.gen(function*() {
      const body = yield* decodeJson(exchange, OrderBody)
      yield* checkUrls(exchange, [...body.authorizations, body.finalize, body.certificate])
      return { ...body, url } satisfies Order
    })

  const decodeAuthorization = (exchange: Exchange, url: string) =>
    Effect.gen(function*() {
      const body = yield* decodeJson(exchange, AuthorizationBody)
      yield* checkUrls(exchange, body.challenges.map((challenge) => challenge.url))
      return { ...body, url } satisfies Authorization
    })

  const requireEndpoint = (dir: Directory, name: "revokeCert" | "keyChange" | "renewalInfo") => {
    const url = dir[name]
    return url !== undefined
      ? Effect.succeed(url)
      : Effect.fail(
        new InvalidResponse({
          reason: "MissingEndpoint",
          method: "GET",
          url: directoryUrl,
          description: `the directory has no ${name} endpoint, so the CA does not support this operation`
        })
      )
  }

  const newAccount: AcmeProtocol.Service["newAccount"] = Effect.fn("AcmeProtocol.newAccount")(function*(request) {
    const eab = request.externalAccountBinding
    const payload = {
      ...(request.contact !== undefined ? { contact: request.contact } : {}),
      ...(request.termsOfServiceAgreed !== undefined ? { termsOfServiceAgreed: request.termsOfServiceAgreed } : {}),
      ...(request.onlyReturnExisting === true ? { onlyReturnExisting: true } : {}),
      ...(eab !== undefined
        ? {
          externalAccountBinding: yield* Jws.externalAccountBinding({
            accountKey: request.key,
            keyId: eab.keyId,
            hmacKey: eab.hmacKey,
            url: request.directory.newAccount
          })
        }
        : {})
    }
    const { exchange, nonce } = yield* signedPost({
      url: request.directory.newAccount,
      nonce: request.nonce,
      signer: { key: request.key },
      payload,
      operation: "newAccount"
    })
    yield* expectStatus(exchange, [200, 201])
    const url = yield* requireLocation(exchange, "account")
    return { value: yield* decodeAccount(exchange, url), nonce }
  })

  const postToAccount = (
    operation: string,
    request: { readonly nonce: Nonce; readonly account: AccountRef },
    payload: unknown
  ): Effect.Effect<Signed<Account>, ProtocolError> =>
    Effect.gen(function*() {
      const { exchange, nonce } = yield* signedPost({
        url: request.account.url,
        nonce: request.nonce,
        signer: accountSigner(request.account),
        payload,
        operation
      })
      yield* expectStatus(exchange, [200])
      return { value: yield* decodeAccount(exchange, request.account.url), nonce }
    }).pipe(Effect.withSpan(`AcmeProtocol.${operation}`))

  const changeKey: AcmeProtocol.Service["changeKey"] = Effect.fn("AcmeProtocol.changeKey")(function*(request) {
    const url = yield* requireEndpoint(request.directory, "keyChange")
    const inner = yield* Jws.keyChangeInner({
      oldKey: request.account.key,
      newKey: request.newKey,
      account: request.account.url,
      url
    })
    const { exchange, nonce } = yield* signedPost({
      url,
      nonce: request.nonce,
      signer: accountSigner(request.account),
      payload: inner,
      operation: "keyChange"
    })
    yield* expectStatus(exchange, [200, 204])
    return { value: { key: request.newKey, url: request.account.url }, nonce }
  })

  const newOrder: AcmeProtocol.Service["newOrder"] = Effect.fn("AcmeProtocol.newOrder")(function*(request) {
    const order = request.order
    const payload = {
      identifiers: order.identifiers.map((identifier) => ({ type: identifier.type, value: identifier.value })),
      ...(order.notBefore !== undefined ? { notBefore: order.notBefore } : {}),
      ...(order.notAfter !== undefined ? { notAfter: order.notAfter } : {}),
      ...(order.profile !== undefined ? { profile: order.profile } : {}),
      ...(order.replaces !== undefined ? { replaces: order.replaces } : {})
    }
    const { exchange, nonce } = yield* signedPost({
      url: request.directory.newOrder,
      nonce: request.nonce,
      signer: accountSigner(request.account),
      payload,
      operation: "newOrder"
    })
    yield* expectStatus(exchange, [200, 201])
    const url = yield* requireLocation(exchange, "order")
    return { value: yield* decodeOrder(exchange, url), nonce }
  })

  const postAsGet = (
    operation: string,
    request: { readonly nonce: Nonce; readonly account: AccountRef; readonly url: string },
    accept?: string
  ) =>
    Effect.gen(function*() {
      const url = yield* transport.checkUrl(request.url, { method: "POST", from: request.url })
      const result = yield* signedPost({
        url,
        nonce: request.nonce,
        signer: accountSigner(request.account),
        payload: undefined,
        operation,
        accept
      })
      yield* expectStatus(result.exchange, [200])
      return result
    })

  const getOrder: AcmeProtocol.Service["getOrder"] = (request) =>
    postAsGet("getOrder", request).pipe(
      Effect.flatMap(({ exchange, nonce }) =>
        Effect.map(decodeOrder(exchange, request.url), (value): Signed<Order> => ({ value, nonce }))
      ),
      Effect.withSpan("AcmeProtocol.getOrder")
    )

  const getAuthorization: AcmeProtocol.Service["getAuthorization"] = (request) =>
    postAsGet("getAuthorization", request).pipe(
      Effect.flatMap(({ exchange, nonce }) =>
        Effect.map(decodeAuthorization(exchange, request.url), (value): Signed<Authorization> => ({ value, nonce }))
      ),
      Effect.withSpan("AcmeProtocol.getAuthorization")
    )

  const OrdersPage = Schema.Struct({ orders: Schema.Array(Schema.String) })

  const listOrders: AcmeProtocol.Service["listOrders"] = Effect.fn("AcmeProtocol.listOrders")(function*(request) {
    const account = yield* postToAccount("getAccount", request, undefined)
    let nonce = account.nonce
    let next = account.value.orders
    const orders: Array<string> = []
    const seen = new Set<string>()
    while (next !== undefined && !seen.has(next)) {
      seen.add(next)
      const page = yield* postAsGet("listOrders", { nonce, account: request.account, url: next })
      nonce = page.nonce
      const body = yield* decodeJson(page.exchange, OrdersPage)
      yield* checkUrls(page.exchange, body.orders)
      orders.push(...body.orders)
      next = links(page.exchange, "next")[0]
    }
    return { value: orders, nonce }
  })

  const respondToChallenge: AcmeProtocol.Service["respondToChallenge"] = Effect.fn("AcmeProtocol.respondToChallenge")(
    function*(request) {
      const url = yield* transport.checkUrl(request.url, { method: "POST", from: request.url })
      const { exchange, nonce } = yield* signedPost({
        url,
        nonce: request.nonce,
        signer: accountSigner(request.account),
        payload: {},
        operation: "respondToChallenge"
      })
      yield* expectStatus(exchange, [200])
      return { value: yield* decodeJson(exchange, Challenge), nonce }
    }
  )

  const deactivateAuthorization: AcmeProtocol.Service["deactivateAuthorization"] = Effect.fn(
    "AcmeProtocol.deactivateAuthorization"
  )(function*(request) {
    const { exchange, nonce } = yield* signedPost({
      url: yield* transport.checkUrl(request.url, { method: "POST", from: request.url }),
      nonce: request.nonce,
      signer: accountSigner(request.account),
      payload: { status: "deactivated" },
      operation: "deactivateAuthorization"
    })
    yield* expectStatus(exchange, [200])
    return { value: yield* decodeAuthorization(exchange, request.url), nonce }
  })

  /** Polls with POST-as-GET until `done`, threading the nonce through the attempts. */
  const poll = <A extends { readonly status: string }>(options: {
    readonly resource: "authorization" | "order"
    readonly url: string
    readonly nonce: Nonce
    readonly timeout: Duration.Duration
    readonly fetch: (nonce: Nonce) => Effect.Effect<{ readonly value: A; readonly nonce: Nonce; readonly exchange: Exchange }, ProtocolError>
    readonly done: (value: A) => boolean
  }): Effect.Effect<Signed<A>, ProtocolError> =>
    Effect.gen(function*() {
      const start = yield* Clock.currentTimeMillis
      const current = yield* Ref.make(options.nonce)
      const step: Effect.Effect<PollStep<A>, ProtocolError> = Effect.gen(function*() {
        const result = yield* options.fetch(yield* Ref.get(current))
        yield* Ref.set(current, result.nonce)
        return {
          value: result.value,
          nonce: result.nonce,
          retryAfter: yield* retryAfter(result.exchange.headers),
          done: options.done(result.value),
          at: yield* Clock.currentTimeMillis
        }
      })
      const last = yield* Effect.repeat(
        step,
        pollSchedule<A>({
          interval: pollInterval,
          maxInterval: maxPollInterval,
          deadline: start + Duration.toMillis(options.timeout)
        })
      )
      if (!last.done) {
        return yield* new PollTimeout({
          url: options.url,
          resource: options.resource,
          lastStatus: last.value.status,
          waited: Duration.millis(last.at - start)
        })
      }
      return { value: last.value, nonce: last.nonce }
    })

  const fetchAuthorization = (account: AccountRef, url: string) => (nonce: Nonce) =>
    postAsGet("pollAuthorization", { nonce, account, url }).pipe(
      Effect.flatMap(({ exchange, nonce: next }) =>
        Effect.map(decodeAuthorization(exchange, url), (value) => ({ value, nonce: next, exchange }))
      )
    )

  const fetchOrder = (account: AccountRef, url: string) => (nonce: Nonce) =>
    postAsGet("pollOrder", { nonce, account, url }).pipe(
      Effect.flatMap(({ exchange, nonce: next }) =>
        Effect.map(decodeOrder(exchange, url), (value) => ({ value, nonce: next, exchange }))
      )
    )

  const pollAuthorization: AcmeProtocol.Service["pollAuthorization"] = Effect.fn("AcmeProtocol.pollAuthorization")(
    function*(request) {
      const result = yield* poll<Authorization>({
        resource: "authorization",
        url: request.url,
        nonce: request.nonce,
        timeout: request.timeout !== undefined ? Duration.decode(request.timeout) : pollTimeout,
        fetch: fetchAuthorization(request.account, request.url),
        done: (authorization) => authorization.status !== "pending"
      })
      if (result.value.status !== "valid") {
        return yield* authorizationFailed(result.value)
      }
      return result
    }
  )

  const pollOrder: AcmeProtocol.Service["pollOrder"] = Effect.fn("AcmeProtocol.pollOrder")(function*(request) {
    const result = yield* poll<Order>({
      resource: "order",
      url: request.url,
      nonce: request.nonce,
      timeout: request.timeout !== undefined ? Duration.decode(request.timeout) : pollTimeout,
      fetch: fetchOrder(request.account, request.url),
      done: request.until === "ready"
        ? (order) => order.status !== "pending"
        : (order) => order.status === "valid" || order.status === "invalid"
    })
    if (result.value.status === "invalid") {
      return yield* orderFailed(result.value)
    }
    return result
  })

  const finalize: AcmeProtocol.Service["finalize"] = Effect.fn("AcmeProtocol.finalize")(function*(request) {
    const { exchange, nonce } = yield* signedPost({
      url: request.order.finalize,
      nonce: request.nonce,
      signer: accountSigner(request.account),
      payload: { csr: Csr.toBase64Url(request.csr) },
      operation: "finalize"
    })
    yield* expectStatus(exchange, [200])
    const order = yield* decodeOrder(exchange, request.order.url)
    if (order.status === "invalid") {
      return yield* orderFailed(order)
    }
    return { value: order, nonce }
  })

  const fetchChain = (account: AccountRef, url: string, nonce: Nonce) =>
    postAsGet("downloadCertificate", { nonce, account, url }, PEM_CHAIN).pipe(
      Effect.flatMap(({ exchange, nonce: next }) =>
        Effect.map(Certificate.parseChain(bodyText(exchange)), (chain) => ({
          chain,
          alternates: links(exchange, "alternate"),
          nonce: next,
          exchange
        }))
      ),
      Effect.tap(({ alternates, exchange }) => checkUrls(exchange, alternates))
    )

  const downloadCertificate: AcmeProtocol.Service["downloadCertificate"] = Effect.fn(
    "AcmeProtocol.downloadCertificate"
  )(function*(request) {
    const first = yield* fetchChain(request.account, request.url, request.nonce)
    const preferred = request.preferredIssuer
    const matches = (chain: Certificate.Chain) => Certificate.topIssuerName(chain) === preferred
    if (preferred === undefined || matches(first.chain)) {
      return {
        value: {
          url: request.url,
          chain: first.chain,
          alternates: first.alternates,
          preferredIssuerMatched: preferred === undefined ? undefined : true
        },
        nonce: first.nonce
      }
    }
    let nonce = first.nonce
    for (const alternate of first.alternates) {
      const candidate = yield* fetchChain(request.account, alternate, nonce)
      nonce = candidate.nonce
      if (matches(candidate.chain)) {
        return {
          value: { url: alternate, chain: candidate.chain, alternates: first.alternates, preferredIssuerMatched: true },
          nonce
        }
      }
    }
    return {
      value: { url: request.url, chain: first.chain, alternates: first.alternates, preferredIssuerMatched: false },
      nonce
    }
  })

  const revokeCertificate: AcmeProtocol.Service["revokeCertificate"] = Effect.fn("AcmeProtocol.revokeCertificate")(
    function*(request) {
      const url = yield* requireEndpoint(request.directory, "revokeCert")
      const signer: Signer = request.signer._tag === "Account"
        ? accountSigner(request.signer.account)
        : { key: request.signer.key }
      const { exchange, nonce } = yield* signedPost({
        url,
        nonce: request.nonce,
        signer,
        payload: {
          certificate: base64url.encode(request.certificate.der),
          ...(request.reason !== undefined ? { reason: RevocationReason.toCode(request.reason) } : {})
        },
        operation: "revokeCert"
      })
      yield* expectStatus(exchange, [200])
      return { value: undefined, nonce }
    }
  )

  const renewalInfo: AcmeProtocol.Service["renewalInfo"] = Effect.fn("AcmeProtocol.renewalInfo")(function*(request) {
    const base = yield* requireEndpoint(request.directory, "renewalInfo")
    const certId = yield* Certificate.certId(request.certificate)
    const url = `${base.replace(/\/$/, "")}/${certId}`
    const exchange = yield* plain("GET", url, "renewalInfo").pipe(Effect.flatMap((x) => expectStatus(x, [200])))
    const body = yield* decodeJson(exchange, RenewalInfoBody)
    return {
      certId,
      suggestedWindow: body.suggestedWindow,
      explanationURL: body.explanationURL,
      retryAfter: yield* retryAfter(exchange.headers)
    }
  })

  return {
    directoryUrl,
    directory,
    newNonce,
    newAccount,
    getAccount: (request) => postToAccount("getAccount", request, undefined),
    updateAccount: (request) => postToAccount("updateAccount", request, { contact: request.contact }),
    deactivateAccount: (request) => postToAccount("deactivateAccount", request, { status: "deactivated" }),
    changeKey,
    newOrder,
    getOrder,
    listOrders,
    getAuthorization,
    respondToChallenge,
    deactivateAuthorization,
    pollAuthorization,
    pollOrder,
    finalize,
    downloadCertificate,
    revokeCertificate,
    renewalInfo
  } satisfies AcmeProtocol.Service
})

const authorizationFailed = (authorization: Authorization) => {
  const failed = authorization.challenges.find((challenge) => challenge.error !== undefined) ??
    authorization.challenges.find((challenge) => challenge.status === "invalid")
  return new AuthorizationFailed({
    url: authorization.url,
    identifier: authorization.identifier.value,
    status: authorization.status,
    challengeType: failed?.type,
    problemType: failed?.error?.type,
    detail: failed?.error?.detail
  })
}

const orderFailed = (order: Order) =>
  new OrderFailed({
    url: order.url,
    status: order.status,
    problemType: order.error?.type,
    detail: order.error?.detail
  })
