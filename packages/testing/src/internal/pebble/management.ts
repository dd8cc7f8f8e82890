/**
 * The `Pebble` service over the started processes: URLs and ports, Pebble's management interface
 * (roots, intermediates, certificate status) and challtestsrv's (TXT, A, http-01, tls-alpn-01).
 */
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import type { Answer, Resolved, Started } from "./start.js"
import type { CertificateStatus, PebbleOptions, Service } from "./service.js"
import { decodeCertificateStatus, decodeDirectory, fqdn, management, normaliseSerial, oneLine, sniName } from "./wire.js"

/** @internal */
export const makeService = (context: {
  readonly options: PebbleOptions
  readonly resolved: Resolved
  readonly started: Started
  readonly caPem: string
  readonly tempDirectory: string
  readonly send: (request: HttpClientRequest.HttpClientRequest) => Effect.Effect<Answer, string>
}): Service => {
  const { options, resolved, send, started, tempDirectory } = context
  const { ports } = started
  const managementUrl = `https://127.0.0.1:${ports.management}`
  const challtestsrvUrl = `http://127.0.0.1:${ports.challtestsrv}`
  const directoryUrl = `https://127.0.0.1:${ports.listen}/dir`

  const get = (url: string) => send(HttpClientRequest.get(url)).pipe(Effect.mapError((e) => management(`GET ${url}: ${e}`)))

  const pem = (kind: "roots" | "intermediates", index: number | undefined) =>
    Effect.gen(function*() {
      const n = index ?? 0
      if (!Number.isInteger(n) || n < 0) {
        return yield* Effect.fail(management(`${kind}/${n}: the index must be a non-negative integer`))
      }
      const url = `${managementUrl}/${kind}/${n}`
      const answer = yield* get(url)
      if (answer.status === 404) {
        return yield* Effect.fail(
          management(
            `GET ${url} answered 404: Pebble has no ${kind === "roots" ? "root" : "intermediate"} ${n} ` +
              `(it has 1 + alternateRoots of them, numbered from 0)`
          )
        )
      }
      if (answer.status !== 200 || !answer.body.includes("-----BEGIN CERTIFICATE-----")) {
        return yield* Effect.fail(management(`GET ${url} answered ${answer.status}: ${oneLine(answer.body)}`))
      }
      return answer.body
    })

  const challtestsrvPost = (operation: string, body: Record<string, unknown>) => {
    const url = `${challtestsrvUrl}/${operation}`
    return send(HttpClientRequest.post(url).pipe(HttpClientRequest.bodyUnsafeJson(body))).pipe(
      Effect.mapError((e) => management(`POST ${url}: ${e}`)),
      Effect.flatMap((answer) =>
        answer.status === 200
          ? Effect.void
          : Effect.fail(management(`POST ${url} answered ${answer.status}: ${oneLine(answer.body)}`))
      )
    )
  }

  const needsChalltestsrv = (operation: string) =>
    resolved.challengeServers === "challtestsrv"
      ? Effect.void
      : Effect.fail(
        management(
          `${operation} needs challengeServers: "challtestsrv"; with "external" your own server on ` +
            `127.0.0.1:${operation.includes("Http01") ? ports.http : ports.tls} answers Pebble`
        )
      )

  const service: Service = {
    directoryUrl,
    managementUrl,
    challtestsrvUrl,
    caBundle: context.caPem,
    httpPort: ports.http,
    tlsPort: ports.tls,
    dnsPort: ports.dns,
    dnsServer: options.dnsServer ?? `127.0.0.1:${ports.dns}`,
    challengeServers: resolved.challengeServers,
    tempDirectory,
    processIds: { pebble: started.pebble.pid, challtestsrv: started.challtestsrv.pid },
    recentOutput: Effect.all({ pebble: started.pebble.tail, challtestsrv: started.challtestsrv.tail }),
    directory: get(directoryUrl).pipe(
      Effect.filterOrFail(
        (answer) => answer.status === 200,
        (answer) => management(`GET ${directoryUrl} answered ${answer.status}: ${oneLine(answer.body)}`)
      ),
      Effect.flatMap((answer) =>
        decodeDirectory(answer.body).pipe(
          Effect.mapError((error) => management(`GET ${directoryUrl}: not an ACME directory: ${oneLine(error.message)}`))
        )
      )
    ),
    rootCertificate: (index) => pem("roots", index),
    intermediateCertificate: (index) => pem("intermediates", index),
    certificateStatus: (serialHex) =>
      Effect.gen(function*() {
        const serial = yield* normaliseSerial(serialHex)
        const url = `${managementUrl}/cert-status-by-serial/${serial}`
        const answer = yield* get(url)
        if (answer.status === 404) {
          return yield* Effect.fail(management(`Pebble has issued no certificate with serial ${serial} (GET ${url}: 404)`))
        }
        if (answer.status !== 200) {
          return yield* Effect.fail(management(`GET ${url} answered ${answer.status}: ${oneLine(answer.body)}`))
        }
        const json = yield* decodeCertificateStatus(answer.body).pipe(
          Effect.mapError((error) => management(`GET ${url}: unexpected answer: ${oneLine(error.message)}`))
        )
        const revoked = json.Status === "Revoked"
        const status: CertificateStatus = {
          status: json.Status,
          serial: json.Serial,
          certificate: json.Certificate,
          ...(revoked ? { reason: json.Reason ?? 0 } : {}),
          ...(json.RevokedAt === undefined ? {} : { revokedAt: json.RevokedAt })
        }
        return status
      }),
    setTxt: (host, value) => challtestsrvPost("set-txt", { host: fqdn(host), value }),
    clearTxt: (host) => challtestsrvPost("clear-txt", { host: fqdn(host) }),
    addHttp01: (token, content) =>
      needsChalltestsrv("addHttp01").pipe(Effect.zipRight(challtestsrvPost("add-http01", { token, content }))),
    removeHttp01: (token) => challtestsrvPost("del-http01", { token }),
    addTlsAlpn01: (host, keyAuthorization) =>
      needsChalltestsrv("addTlsAlpn01").pipe(
        Effect.zipRight(challtestsrvPost("add-tlsalpn01", { host: sniName(host), content: keyAuthorization }))
      ),
    removeTlsAlpn01: (host) => challtestsrvPost("del-tlsalpn01", { host: sniName(host) }),
    addA: (host, addresses) => challtestsrvPost("add-a", { host: fqdn(host), addresses }),
    clearA: (host) => challtestsrvPost("clear-a", { host: fqdn(host) })
  }
  return service
}
