/**
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Rfc2136 from "./Rfc2136.js"

/** @since 0.1.0 */
export * as Secret from "./Secret.js"

/** @since 0.1.0 */
export * as Dns01 from "./Dns01.js"

/** @since 0.1.0 */
export * as DnsResolver from "./DnsResolver.js"
