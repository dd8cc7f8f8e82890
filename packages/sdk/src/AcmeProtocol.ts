/**
 * A stateless RFC 8555 client.
 *
 * The service holds configuration and an HTTP client, nothing else: no nonce, no directory cache,
 * no account. Every signed operation takes the nonce to use and returns the next one (from the
 * response's `Replay-Nonce`) together with its result, so two sequences of calls with their own
 * nonces never interfere, and a caller can save the nonce in a checkpoint.
 *
 * Inside one call, a `badNonce` answer is retried with the nonce that came with the error
 * (RFC 8555 §6.5), a bounded number of times.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { AccountRef } from "./Account.js"
import * as internal from "./internal/acmeProtocol.js"
import type * as Contract from "./internal/acmeProtocol/service.js"
import type { SigningKey } from "./Jws.js"

/**
 * @since 0.1.0
 * @category tags
 */
export class AcmeProtocol extends Context.Tag("@acme/sdk/AcmeProtocol")<AcmeProtocol, AcmeProtocol.Service>() {}

/**
 * The service's options and operations; their definitions, with a comment on each field and
 * operation, are in `internal/acmeProtocol/service.ts`.
 *
 * @since 0.1.0
 */
export declare namespace AcmeProtocol {
  /**
   * The directory URL, timeouts, body limit, badNonce retries and poll waits (see `Waits` for the
   * defaults), and the User-Agent.
   *
   * @since 0.1.0
   * @category models
   */
  export type Options = Contract.Options

  /**
   * Who signs a revocation: the account that ordered the certificate (or any account holding
   * authorizations for all its names), or the certificate's own key.
   *
   * @since 0.1.0
   * @category models
   */
  export type RevocationSigner = Contract.RevocationSigner

  /**
   * A downloaded chain, the URL it came from and the alternates the CA offered.
   *
   * @since 0.1.0
   * @category models
   */
  export type CertificateDownload = Contract.CertificateDownload

  /**
   * Every RFC 8555 operation: directory, nonce, account, order, authorization, challenge, polling,
   * finalize, download, revocation, ARI.
   *
   * @since 0.1.0
   * @category models
   */
  export type Service = Contract.Service
}

/**
 * Builds the service over the `HttpClient` in context.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options: AcmeProtocol.Options) => Effect.Effect<AcmeProtocol.Service, never, HttpClient.HttpClient> =
  internal.make

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: AcmeProtocol.Options): Layer.Layer<AcmeProtocol, never, HttpClient.HttpClient> =>
  Layer.effect(AcmeProtocol, make(options))

/**
 * The service configured from `Config`, e.g. `layerConfig({ directoryUrl: Config.string("ACME_DIRECTORY_URL") })`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config.Wrap<AcmeProtocol.Options>
): Layer.Layer<AcmeProtocol, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(AcmeProtocol, Effect.flatMap(Config.unwrap(options), make))

/**
 * Signer for a revocation by the account.
 *
 * @since 0.1.0
 * @category constructors
 */
export const signedByAccount = (account: AccountRef): AcmeProtocol.RevocationSigner => ({ _tag: "Account", account })

/**
 * Signer for a revocation by the certificate's own key.
 *
 * @since 0.1.0
 * @category constructors
 */
export const signedByCertificateKey = (key: SigningKey): AcmeProtocol.RevocationSigner => ({
  _tag: "CertificateKey",
  key
})
