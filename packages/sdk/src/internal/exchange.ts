/**
 * One HTTP exchange with the CA as the protocol sees it: method, URL, status, headers and the
 * whole (bounded) body.
 */
import type * as Headers from "@effect/platform/Headers"

/** @internal */
export type Method = "GET" | "HEAD" | "POST"

/** @internal */
export interface Exchange {
  readonly method: Method
  readonly url: string
  readonly status: number
  readonly headers: Headers.Headers
  readonly body: Uint8Array
}

const textDecoder = new TextDecoder()

/** @internal */
export const bodyText = (exchange: Exchange): string => textDecoder.decode(exchange.body)
