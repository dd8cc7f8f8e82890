/**
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Account from "./Account.js"
/** @since 0.1.0 */
export * as AccountKey from "./AccountKey.js"
/** @since 0.1.0 */
export * as AcmeError from "./AcmeError.js"
/** @since 0.1.0 */
export * as AcmeProtocol from "./AcmeProtocol.js"
/** @since 0.1.0 */
export * as Authorization from "./Authorization.js"
/** @since 0.1.0 */
export * as Certificate from "./Certificate.js"
/** @since 0.1.0 */
export * as CertificateKey from "./CertificateKey.js"
/** @since 0.1.0 */
export * as CertificateName from "./CertificateName.js"
/** @since 0.1.0 */
export * as ChallengeResponse from "./ChallengeResponse.js"
/** @since 0.1.0 */
export * as Csr from "./Csr.js"
/** @since 0.1.0 */
export * as Directory from "./Directory.js"
/** @since 0.1.0 */
export * as Identifier from "./Identifier.js"
/** @since 0.1.0 */
export * as Jws from "./Jws.js"
/** @since 0.1.0 */
export * as Nonce from "./Nonce.js"
/** @since 0.1.0 */
export * as Order from "./Order.js"
/** @since 0.1.0 */
export * as RenewalInfo from "./RenewalInfo.js"
/** @since 0.1.0 */
export * as RetryPolicy from "./RetryPolicy.js"
/** @since 0.1.0 */
export * as Waits from "./Waits.js"
/** @since 0.1.0 */
export * as RevocationReason from "./RevocationReason.js"
/** @since 0.1.0 */
export * as ChallengeSolver from "./ChallengeSolver.js"
/** @since 0.1.0 */
export * as CrashPoint from "./CrashPoint.js"
/** @since 0.1.0 */
export * as DeployHook from "./DeployHook.js"
/** @since 0.1.0 */
export * as RenewalConfig from "./RenewalConfig.js"
/** @since 0.1.0 */
export * as Storage from "./Storage.js"
/** @since 0.1.0 */
export * as Lease from "./Lease.js"
/** @since 0.1.0 */
export * as Host from "./Host.js"
/** @since 0.1.0 */
export * as Planner from "./Planner.js"
/** @since 0.1.0 */
export * as Renewal from "./Renewal.js"
/** @since 0.1.0 */
export * as RenewalSettings from "./RenewalSettings.js"
/** @since 0.1.0 */
export * as RenewalState from "./RenewalState.js"
/** @since 0.1.0 */
export * as Reporter from "./Reporter.js"
/** @since 0.1.0 */
export * as Accounts from "./Accounts.js"
/** @since 0.1.0 */
export * as Revocation from "./Revocation.js"
/** @since 0.1.0 */
export * as Status from "./Status.js"
/** @since 0.1.0 */
export * as DnsProvider from "./DnsProvider.js"
/** @since 0.1.0 */
export * as Plugin from "./Plugin.js"
/** @since 0.1.0 */
export * as CaPreset from "./CaPreset.js"
/** @since 0.1.0 */
export * as ServiceRecords from "./ServiceRecords.js"
/** @since 0.1.0 */
export * as CaMetrics from "./CaMetrics.js"
/** @since 0.1.0 */
export * as Doctor from "./Doctor.js"
