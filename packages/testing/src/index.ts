/**
 * @since 0.1.0
 */
export * as Bind from "./Bind.js"
/**
 * @since 0.1.0
 */
export * as Pebble from "./Pebble.js"
/**
 * @since 0.1.0
 */
export * as PebbleError from "./PebbleError.js"
/**
 * @since 0.1.0
 */
export * as PebbleHttpClient from "./PebbleHttpClient.js"
/**
 * @since 0.1.0
 */
export * as FaultProxy from "./FaultProxy.js"
/**
 * @since 0.1.0
 */
export * as Postgres from "./Postgres.js"
/**
 * @since 0.1.0
 */
export * as Requirement from "./Requirement.js"
/**
 * @since 0.1.0
 */
export * as HttpStub from "./HttpStub.js"
