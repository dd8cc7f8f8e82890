/**
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as AcmeDns from "./AcmeDns.js"

/** @since 0.1.0 */
export * as Challtestsrv from "./Challtestsrv.js"

/** @since 0.1.0 */
export * as Cloudflare from "./Cloudflare.js"

/** @since 0.1.0 */
export * as Dns01 from "./Dns01.js"

/** @since 0.1.0 */
export * as DnsResolver from "./DnsResolver.js"

/** @since 0.1.0 */
export * as Plugins from "./Plugins.js"

/** @since 0.1.0 */
export * as Rfc2136 from "./Rfc2136.js"

/** @since 0.1.0 */
export * as Route53 from "./Route53.js"

/** @since 0.1.0 */
export * as Secret from "./Secret.js"

/** @since 0.1.0 */
export * as DnsDoctor from "./DnsDoctor.js"
