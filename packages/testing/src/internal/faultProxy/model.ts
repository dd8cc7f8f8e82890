/**
 * What the fault proxy does to an answer ({@link Fault}), which requests it does it to ({@link Rule}),
 * what it remembers ({@link Exchange}, {@link Trapped}) and its service ({@link Service}).
 */
import type * as Effect from "effect/Effect"

/**
 * The headers of an answer as the proxy forwards them: lower-case names, a list for a header sent
 * more than once.
 *
 * @since 0.1.0
 * @category models
 */
export type AnswerHeaders = Record<string, string | ReadonlyArray<string>>

/**
 * What happens to a request a rule picks:
 *
 * - `Drop`: forwarded; the status, the headers (with the full `Content-Length`) and half the body
 *   are sent, then the connection is destroyed (a HEAD gets no answer at all).
 * - `Reset`: forwarded or not (`forward`); the connection is destroyed before any answer.
 * - `Status`: not forwarded; answered with `status`, an optional `Retry-After`, and a problem
 *   document (`serverInternal`) unless `body` says otherwise.
 * - `EditStatus`: forwarded (the CA did the work); the answer's status is replaced, headers and body kept.
 * - `MalformedJson`: forwarded; the body is cut in half (a complete HTTP answer with a broken body).
 * - `WrongContentType`: forwarded; the body is kept and `Content-Type` is replaced (`text/html`).
 * - `Oversized`: forwarded; the body is padded with spaces (still valid JSON) to `bytes`, sent
 *   chunked unless `declareLength`.
 * - `Redirect`: not forwarded; answered with `status` (301) and `Location` set to the same path on
 *   `http://` (or `location`).
 * - `EditJson`: forwarded; a JSON body is replaced by what `edit` returns (a body that is not JSON
 *   is passed to `edit` as its text).
 * - `EditHeaders`: forwarded; the headers are replaced by what `edit` returns.
 * - `ReplaceBody`: forwarded; the body is replaced by `body`, the headers kept.
 * - `RewriteOrigin`: forwarded; the proxy's origin, wherever it shows in the headers and the
 *   body, becomes `origin` (another host or port, or `http://`).
 * - `Delay`: waits `millis` (real time), then applies `then` (or forwards the answer as it is).
 *
 * @since 0.1.0
 * @category models
 */
export type Fault =
  | { readonly _tag: "Drop" }
  | { readonly _tag: "Reset"; readonly forward: boolean }
  | {
    readonly _tag: "Status"
    readonly status: number
    readonly retryAfter?: number | string | undefined
    readonly body?: string | undefined
    readonly contentType?: string | undefined
  }
  | { readonly _tag: "EditStatus"; readonly status: number }
  | { readonly _tag: "MalformedJson" }
  | { readonly _tag: "WrongContentType"; readonly contentType: string }
  | { readonly _tag: "Oversized"; readonly bytes: number; readonly declareLength: boolean }
  | { readonly _tag: "Redirect"; readonly status: number; readonly location?: string | undefined }
  | { readonly _tag: "EditJson"; readonly edit: (body: unknown) => unknown }
  | { readonly _tag: "EditHeaders"; readonly edit: (headers: AnswerHeaders) => AnswerHeaders }
  | { readonly _tag: "ReplaceBody"; readonly body: string }
  | { readonly _tag: "RewriteOrigin"; readonly origin: string }
  | { readonly _tag: "Delay"; readonly millis: number; readonly then?: Fault | undefined }

/**
 * Which requests get a fault: those with `method` (any when omitted) whose path starts with `path`
 * (a string) or matches it (a RegExp), for the next `times` of them, or `percent` of them
 * (both: `percent` of them until `times` were faulted). Neither: every matching request.
 *
 * @since 0.1.0
 * @category models
 */
export interface Rule {
  readonly method?: string | undefined
  readonly path: string | RegExp
  readonly times?: number | undefined
  readonly percent?: number | undefined
  readonly fault: Fault
}

/**
 * The seeded chaos mode: every answer may be spoiled, as a seed decides (see `FaultProxy.chaos`).
 *
 * @since 0.1.0
 * @category models
 */
export interface ChaosOptions {
  /** the same seed spoils the same answers the same way (for the same sequence of requests) */
  readonly seed: number
  /**
   * the share of each kind of request (method and first path segment) that is spoiled; by default
   * the seed picks one per kind, from none to all
   */
  readonly rate?: number | undefined
  /** only requests whose path starts with one of these (default: all) */
  readonly paths?: ReadonlyArray<string> | undefined
}

/**
 * One request that went through the proxy: the status the client got (0 when the connection was
 * destroyed before an answer), the fault applied, if any, and for the chaos mode what it did.
 *
 * @since 0.1.0
 * @category models
 */
export interface Exchange {
  readonly method: string
  readonly path: string
  readonly status: number
  readonly fault: Fault["_tag"] | undefined
  /** what the chaos mode did to the answer, in words (`drop-header replay-nonce`, ...) */
  readonly mutation?: string | undefined
}

/**
 * A request that reached the proxy's traps: another origin than the CA's (another port, another
 * host name for the proxy's address, or `http://`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Trapped {
  readonly origin: string
  readonly method: string
  readonly path: string
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** `https://127.0.0.1:<port>` */
  readonly url: string
  /** Pebble's directory through the proxy */
  readonly directoryUrl: string
  /** PEM of the CA that signed the proxy's certificate: what a client must trust */
  readonly caBundle: string
  readonly port: number
  /**
   * Origins that are not the CA's, each served by the proxy only to record who comes (answered 404):
   * `https://127.0.0.1:<another port>`, `https://localhost:<port>` (the proxy's own port under another
   * host name) and `http://127.0.0.1:<another port>`. Chaos rewrites URLs to them.
   */
  readonly traps: ReadonlyArray<string>
  /** adds a rule; rules are tried in the order they were added, the first that matches applies */
  readonly inject: (rule: Rule) => Effect.Effect<void>
  /** spoils answers at random from a seed, after the rules (which go first); replaces an earlier chaos */
  readonly chaos: (options: ChaosOptions) => Effect.Effect<void>
  /** removes every rule and the chaos mode */
  readonly clear: Effect.Effect<void>
  /** every request to the CA's origin so far, oldest first */
  readonly exchanges: Effect.Effect<ReadonlyArray<Exchange>>
  /** every request that reached a trap so far, oldest first */
  readonly trapped: Effect.Effect<ReadonlyArray<Trapped>>
}
