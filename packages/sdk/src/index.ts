/**
 * @since 0.1.0
 */
export * as AcmeError from "./AcmeError.js"
export * as Identifier from "./Identifier.js"
