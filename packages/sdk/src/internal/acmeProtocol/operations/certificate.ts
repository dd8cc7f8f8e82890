/**
 * Certificate operations: download (with a preferred chain among the alternates), revoke
 * (RFC 8555 §7.4.2, §7.6), and ACME Renewal Information (RFC 9773).
 */
import * as Effect from "effect/Effect"
import { base64url } from "jose"
import type { AccountRef } from "../../../Account.js"
import * as Certificate from "../../../Certificate.js"
import type { Nonce } from "../../../Nonce.js"
import { RenewalInfoBody } from "../../../RenewalInfo.js"
import * as RevocationReason from "../../../RevocationReason.js"
import { bodyText } from "../../exchange.js"
import { decodeJson, links, retryAfter } from "../../response.js"
import { expectStatus, requireEndpoint } from "../client.js"
import type { Service } from "../service.js"
import { accountSigner, type Protocol, type Signer } from "../signedRequest.js"

const PEM_CHAIN = "application/pem-certificate-chain"

/** @internal */
export const certificateOperations = (
  protocol: Protocol
): Pick<Service, "downloadCertificate" | "revokeCertificate" | "renewalInfo"> => {
  const fetchChain = (account: AccountRef, url: string, nonce: Nonce) =>
    protocol.postAsGet("downloadCertificate", { nonce, account, url }, PEM_CHAIN).pipe(
      Effect.flatMap(({ exchange, nonce: next }) =>
        Effect.map(Certificate.parseChain(bodyText(exchange)), (chain) => ({
          chain,
          alternates: links(exchange, "alternate"),
          nonce: next,
          exchange
        }))
      ),
      Effect.tap(({ alternates, exchange }) => protocol.checkUrls(exchange, alternates))
    )

  const downloadCertificate: Service["downloadCertificate"] = Effect.fn("AcmeProtocol.downloadCertificate")(
    function*(request) {
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
    }
  )

  const revokeCertificate: Service["revokeCertificate"] = Effect.fn("AcmeProtocol.revokeCertificate")(
    function*(request) {
      const url = yield* requireEndpoint(protocol, request.directory, "revokeCert")
      const signer: Signer = request.signer._tag === "Account"
        ? accountSigner(request.signer.account)
        : { key: request.signer.key }
      const { exchange, nonce } = yield* protocol.signedPost({
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

  const renewalInfo: Service["renewalInfo"] = Effect.fn("AcmeProtocol.renewalInfo")(function*(request) {
    const base = yield* requireEndpoint(protocol, request.directory, "renewalInfo")
    const certId = yield* Certificate.certId(request.certificate)
    const url = `${base.replace(/\/$/, "")}/${certId}`
    const exchange = yield* protocol.plain("GET", url, "renewalInfo").pipe(Effect.flatMap((x) => expectStatus(x, [200])))
    const body = yield* decodeJson(exchange, RenewalInfoBody)
    return {
      certId,
      suggestedWindow: body.suggestedWindow,
      explanationURL: body.explanationURL,
      retryAfter: yield* retryAfter(exchange.headers)
    }
  })

  return { downloadCertificate, revokeCertificate, renewalInfo }
}
