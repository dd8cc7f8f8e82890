/**
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as NodeAcmeHttpClient from "./NodeAcmeHttpClient.js"
