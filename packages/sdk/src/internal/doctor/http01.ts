/**
 * Can http-01 be answered? A test token is put in place by the http-01 responder (its own server on
 * the configured port, or a file in the webroot), then fetched back over HTTP from every address of
 * each name, as the CA would fetch it, and removed again.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as Option from "effect/Option"
import { http01Path } from "../../ChallengeResponse.js"
import { type ChallengeError, Http01Responder } from "../../ChallengeSolver.js"
import type { CertificateSpec } from "../../RenewalConfig.js"
import * as finding from "./finding.js"
import type { Finding } from "./service.js"

const placeFix = (certificate: CertificateSpec, error: ChallengeError): string => {
  const config = certificate.challenge.type === "http-01" ? certificate.challenge : undefined
  if (config?.webroot !== undefined) {
    return `make ${config.webroot} a folder the user acme runs as can write .well-known/acme-challenge/ into`
  }
  const port = config?.port ?? 80
  switch (error.reason) {
    case "PortInUse":
      return `stop what listens on port ${port}, or use challenge.webroot to answer through the web server there`
    case "PermissionDenied":
      return `run acme with the right to bind port ${port} (CAP_NET_BIND_SERVICE), or use a port above 1024 behind a redirect, or webroot`
    default:
      return "check challenge.port and challenge.address"
  }
}

const fetchOne = (input: {
  readonly name: string
  readonly address: string
  readonly port: number
  readonly token: string
  readonly expected: string
  readonly timeout: Duration.Duration
}) =>
  Effect.gen(function*() {
    const client = (yield* HttpClient.HttpClient).pipe(HttpClient.followRedirects(10))
    const host = input.address.includes(":") ? `[${input.address}]` : input.address
    const url = `http://${host}:${input.port}${http01Path(input.token)}`
    const request = HttpClientRequest.get(url).pipe(
      HttpClientRequest.setHeader("host", input.port === 80 ? input.name : `${input.name}:${input.port}`)
    )
    return yield* client.execute(request).pipe(
      Effect.flatMap((response) =>
        Effect.map(response.text, (text) =>
          response.status !== 200
            ? `HTTP ${response.status}`
            : text.trim() === input.expected
            ? undefined
            : "a different content")
      ),
      Effect.scoped,
      Effect.timeoutFail({ duration: input.timeout, onTimeout: () => `no answer in ${Duration.format(input.timeout)}` }),
      Effect.catchAll((error) => Effect.succeed(typeof error === "string" ? error : finding.oneLine(error.message)))
    )
  })

/** @internal */
export const check = (input: {
  readonly certificate: CertificateSpec
  /** the addresses each name resolved to */
  readonly addresses: ReadonlyMap<string, ReadonlyArray<string>>
  readonly port: number
  readonly timeout: Duration.Duration
}): Effect.Effect<ReadonlyArray<Finding>, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const { certificate } = input
    const config = certificate.challenge.type === "http-01" ? certificate.challenge : undefined
    const where = config?.webroot !== undefined ? `webroot ${config.webroot}` : `port ${config?.port ?? 80}`
    const at = { check: "http-01" as const, certificate: certificate.name, subject: where }
    const responder = yield* Effect.serviceOption(Http01Responder)
    if (Option.isNone(responder)) return [finding.skip(at, "no http-01 responder in this environment")]
    const findings: Array<Finding> = []
    const names = certificate.domains.filter((name) => !name.startsWith("*."))
    for (const name of certificate.domains.filter((name) => name.startsWith("*."))) {
      findings.push(finding.fail(
        { ...at, subject: name },
        "http-01 cannot validate a wildcard name",
        "use dns-01 for this certificate"
      ))
    }
    const first = names[0]
    if (first === undefined) return findings
    const token = Encoding.encodeBase64Url(globalThis.crypto.getRandomValues(new Uint8Array(32)))
    const keyAuthorization = `${token}.acme-doctor`
    const task = {
      certificate: certificate.name,
      identifier: { type: "dns" as const, value: first },
      type: "http-01" as const,
      token,
      keyAuthorization,
      config: certificate.challenge
    }
    const placed = yield* Effect.either(responder.value.present(task))
    if (placed._tag === "Left") {
      return [...findings, finding.fail(at, finding.oneLine(placed.left.description), placeFix(certificate, placed.left))]
    }
    findings.push(finding.ok(at, `a test token can be served (${where})`))
    const fetched = yield* Effect.forEach(names, (name) =>
      Effect.gen(function*() {
        const subject = { check: "http-01" as const, certificate: certificate.name, subject: name }
        const addresses = input.addresses.get(name) ?? []
        if (addresses.length === 0) {
          return finding.fail(subject, `cannot fetch the test token: ${name} has no address`, "see the dns check")
        }
        const problems = yield* Effect.forEach(addresses, (address) =>
          Effect.map(
            fetchOne({ name, address, port: input.port, token, expected: keyAuthorization, timeout: input.timeout }),
            (problem) => problem === undefined ? undefined : `${address}: ${problem}`
          ))
        const failed = problems.filter((problem): problem is string => problem !== undefined)
        const url = `http://${name}${input.port === 80 ? "" : `:${input.port}`}${http01Path(token)}`
        return failed.length === 0
          ? finding.ok(subject, `the test token came back from ${url}`)
          : finding.fail(
            subject,
            `the test token did not come back from ${url} (${failed.join("; ")})`,
            config?.webroot !== undefined
              ? `check that the web server for ${name} serves ${config.webroot}/.well-known/acme-challenge/ on port ${input.port}`
              : `check that port ${input.port} of ${name} reaches port ${config?.port ?? 80} of this machine (firewall, NAT, proxy)`
          )
      })).pipe(Effect.ensuring(responder.value.cleanup(task)))
    return [...findings, ...fetched]
  })
