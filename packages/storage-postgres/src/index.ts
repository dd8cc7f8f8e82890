/**
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as EncryptionKey from "./EncryptionKey.js"
/** @since 0.1.0 */
export * as PostgresStorage from "./PostgresStorage.js"
