/** One HTTP exchange for the HTTP-API providers: the status and the body text, or a Transport error. */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as DnsProvider from "@acme/sdk/DnsProvider"
import * as Effect from "effect/Effect"

/** @internal */
export interface Answer {
  readonly status: number
  readonly body: string
}

const describe = (error: HttpClientError.HttpClientError): string => {
  const cause = error.cause
  if (cause instanceof Error) {
    const inner = cause.cause instanceof Error ? `: ${cause.cause.message}` : ""
    return `${cause.message}${inner}`
  }
  return error.message
}

/** the first 200 characters of a body, on one line */
export const excerpt = (body: string): string => {
  const line = body.replace(/\s+/g, " ").trim()
  return line.length > 200 ? `${line.slice(0, 200)}...` : line
}

/** @internal */
export const send = (
  client: HttpClient.HttpClient,
  provider: string,
  request: HttpClientRequest.HttpClientRequest
): Effect.Effect<Answer, DnsProvider.DnsProviderError> =>
  client.execute(request).pipe(
    Effect.flatMap((response) => Effect.map(response.text, (body) => ({ status: response.status, body }))),
    Effect.mapError((error) => describe(error)),
    Effect.timeoutFail({ duration: "30 seconds", onTimeout: () => "no answer within 30 seconds" }),
    Effect.mapError((description) =>
      new DnsProvider.DnsProviderError({
        provider,
        reason: "Transport",
        description: `${request.method} ${request.url}: ${description}`
      })
    )
  )

/** @internal */
export const providerError = (provider: string) =>
(reason: DnsProvider.DnsProviderError["reason"], description: string) =>
  new DnsProvider.DnsProviderError({ provider, reason, description })
