/**
 * The contract of the `AcmeProtocol` service: its options and its operations. `AcmeProtocol`
 * names these types in its namespace; the implementation under `internal/acmeProtocol/` builds them.
 */
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type { Account, AccountRef, ExternalAccountBinding } from "../../Account.js"
import type { AccountKey } from "../../AccountKey.js"
import type { ProtocolError } from "../../AcmeError.js"
import type { Authorization, Challenge } from "../../Authorization.js"
import type { Certificate, Chain } from "../../Certificate.js"
import type { Csr } from "../../Csr.js"
import type { Directory } from "../../Directory.js"
import type { SigningKey } from "../../Jws.js"
import type { Nonce, Signed } from "../../Nonce.js"
import type { NewOrder, Order } from "../../Order.js"
import type { RenewalInfo } from "../../RenewalInfo.js"
import type { RevocationReason } from "../../RevocationReason.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** the CA's directory URL, e.g. https://acme-v02.api.letsencrypt.org/directory */
  readonly directoryUrl: string
  /** how long one HTTP exchange may take, body included (default 30 seconds) */
  readonly requestTimeout?: Duration.DurationInput | undefined
  /** the largest response body accepted (default 1 MiB) */
  readonly maxBodyBytes?: number | undefined
  /** how many times one call retries after `badNonce`, each time with the nonce that came with it (default 40: `Waits.defaultBadNonceRetries`) */
  readonly badNonceRetries?: number | undefined
  /** first wait between polls; grows by half each time up to `maxPollInterval` unless the CA sends Retry-After (default 250 milliseconds: `Waits.defaultPollInterval`) */
  readonly pollInterval?: Duration.DurationInput | undefined
  /** longest wait between two polls when the CA does not say (default 10 seconds: `Waits.defaultMaxPollInterval`) */
  readonly maxPollInterval?: Duration.DurationInput | undefined
  /** how long polling an authorization or order may take in total (default 3 minutes: `Waits.defaultPollTimeout`) */
  readonly pollTimeout?: Duration.DurationInput | undefined
  /** sent as User-Agent (RFC 8555 §6.1) */
  readonly userAgent?: string | undefined
}

/**
 * Who signs a revocation: the account that ordered the certificate (or any account holding
 * authorizations for all its names), or the certificate's own key.
 *
 * @since 0.1.0
 * @category models
 */
export type RevocationSigner =
  | { readonly _tag: "Account"; readonly account: AccountRef }
  | { readonly _tag: "CertificateKey"; readonly key: SigningKey }

/**
 * @since 0.1.0
 * @category models
 */
export interface CertificateDownload {
  /** the URL the chosen chain came from */
  readonly url: string
  readonly chain: Chain
  /** URLs of the alternate chains the CA offered (`Link: rel="alternate"`) */
  readonly alternates: ReadonlyArray<string>
  /** whether the chosen chain matches `preferredIssuer`; undefined when none was asked for */
  readonly preferredIssuerMatched: boolean | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly directoryUrl: string

  /** GET the directory. Callers keep the result; the service does not cache it. */
  readonly directory: Effect.Effect<Directory, ProtocolError>

  /** HEAD newNonce: the first nonce of a sequence. */
  readonly newNonce: (directory: Directory) => Effect.Effect<Nonce, ProtocolError>

  /** newAccount: create an account, or find the one for this key (RFC 8555 §7.3, §7.3.1). */
  readonly newAccount: (options: {
    readonly directory: Directory
    readonly nonce: Nonce
    readonly key: AccountKey
    readonly contact?: ReadonlyArray<string> | undefined
    readonly termsOfServiceAgreed?: boolean | undefined
    readonly onlyReturnExisting?: boolean | undefined
    readonly externalAccountBinding?: ExternalAccountBinding | undefined
  }) => Effect.Effect<Signed<Account>, ProtocolError>

  /** POST-as-GET the account. */
  readonly getAccount: (options: {
    readonly nonce: Nonce
    readonly account: AccountRef
  }) => Effect.Effect<Signed<Account>, ProtocolError>

  /** Replace the account's contacts (RFC 8555 §7.3.2). */
  readonly updateAccount: (options: {
    readonly nonce: Nonce
    readonly account: AccountRef
    readonly contact: ReadonlyArray<string>
  }) => Effect.Effect<Signed<Account>, ProtocolError>

  /** Deactivate the account for good (RFC 8555 §7.3.6). */
  readonly deactivateAccount: (options: {
    readonly nonce: Nonce
    readonly account: AccountRef
  }) => Effect.Effect<Signed<Account>, ProtocolError>

  /** Roll the account over to a new key (RFC 8555 §7.3.5); the old key is refused afterwards. */
  readonly changeKey: (options: {
    readonly directory: Directory
    readonly nonce: Nonce
    readonly account: AccountRef
    readonly newKey: AccountKey
  }) => Effect.Effect<Signed<AccountRef>, ProtocolError>

  /** newOrder (RFC 8555 §7.4), with IP identifiers, profile and ARI `replaces` when given. */
  readonly newOrder: (options: {
    readonly directory: Directory
    readonly nonce: Nonce
    readonly account: AccountRef
    readonly order: NewOrder
  }) => Effect.Effect<Signed<Order>, ProtocolError>

  /** POST-as-GET an order. */
  readonly getOrder: (options: {
    readonly nonce: Nonce
    readonly account: AccountRef
    readonly url: string
  }) => Effect.Effect<Signed<Order>, ProtocolError>

  /** POST-as-GET an authorization. */
  readonly getAuthorization: (options: {
    readonly nonce: Nonce
    readonly account: AccountRef
    readonly url: string
  }) => Effect.Effect<Signed<Authorization>, ProtocolError>

  /**
   * The account's orders (RFC 8555 §7.1.2.1): the URLs of the list at the account's `orders`,
   * every page followed (`Link: rel="next"`). Which orders a CA lists is its choice (at least the
   * pending ones).
   */
  readonly listOrders: (options: {
    readonly nonce: Nonce
    readonly account: AccountRef
  }) => Effect.Effect<Signed<ReadonlyArray<string>>, ProtocolError>

  /** Tell the CA the challenge response is in place (RFC 8555 §7.5.1). */
  readonly respondToChallenge: (options: {
    readonly nonce: Nonce
    readonly account: AccountRef
    readonly url: string
  }) => Effect.Effect<Signed<Challenge>, ProtocolError>

  /** Deactivate an authorization (RFC 8555 §7.5.2). */
  readonly deactivateAuthorization: (options: {
    readonly nonce: Nonce
    readonly account: AccountRef
    readonly url: string
  }) => Effect.Effect<Signed<Authorization>, ProtocolError>

  /**
   * Poll an authorization until it leaves `pending`. Succeeds when it is `valid`, fails with
   * AuthorizationFailed otherwise, and with PollTimeout after the total time allowed.
   */
  readonly pollAuthorization: (options: {
    readonly nonce: Nonce
    readonly account: AccountRef
    readonly url: string
    readonly timeout?: Duration.DurationInput | undefined
  }) => Effect.Effect<Signed<Authorization>, ProtocolError>

  /**
   * Poll an order until it is `ready` (every authorization valid; `valid` counts too) or `valid`
   * (certificate issued). Fails with OrderFailed when it becomes `invalid`, and with PollTimeout
   * after the total time allowed.
   */
  readonly pollOrder: (options: {
    readonly nonce: Nonce
    readonly account: AccountRef
    readonly url: string
    readonly until: "ready" | "valid"
    readonly timeout?: Duration.DurationInput | undefined
  }) => Effect.Effect<Signed<Order>, ProtocolError>

  /** Finalize a ready order with a CSR (RFC 8555 §7.4). The answer is usually `processing` or `valid`. */
  readonly finalize: (options: {
    readonly nonce: Nonce
    readonly account: AccountRef
    readonly order: Order
    readonly csr: Csr
  }) => Effect.Effect<Signed<Order>, ProtocolError>

  /**
   * Download a certificate chain (RFC 8555 §7.4.2). With `preferredIssuer`, alternates are
   * fetched one by one until one whose top certificate's issuer has that common name; the default
   * chain is kept when none does.
   */
  readonly downloadCertificate: (options: {
    readonly nonce: Nonce
    readonly account: AccountRef
    readonly url: string
    readonly preferredIssuer?: string | undefined
  }) => Effect.Effect<Signed<CertificateDownload>, ProtocolError>

  /** revokeCert (RFC 8555 §7.6), signed by the account or by the certificate's own key. */
  readonly revokeCertificate: (options: {
    readonly directory: Directory
    readonly nonce: Nonce
    readonly certificate: Certificate
    readonly reason?: RevocationReason | undefined
    readonly signer: RevocationSigner
  }) => Effect.Effect<Signed<void>, ProtocolError>

  /** GET renewalInfo for a certificate (RFC 9773 §4). Needs a directory with `renewalInfo`. */
  readonly renewalInfo: (options: {
    readonly directory: Directory
    readonly certificate: Certificate
  }) => Effect.Effect<RenewalInfo, ProtocolError>
}
