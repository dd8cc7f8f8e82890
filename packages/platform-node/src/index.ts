/**
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as NodeAcmeHttpClient from "./NodeAcmeHttpClient.js"

/** @since 0.1.0 */
export * as NodeDeployHook from "./NodeDeployHook.js"

/** @since 0.1.0 */
export * as NodeHost from "./NodeHost.js"

/** @since 0.1.0 */
export * as NodeHttp01Responder from "./NodeHttp01Responder.js"

/** @since 0.1.0 */
export * as NodeTlsAlpn01Responder from "./NodeTlsAlpn01Responder.js"
