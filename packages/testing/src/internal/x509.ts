/**
 * The one place that loads `@peculiar/x509`: its dependency injection needs `reflect-metadata`
 * evaluated first, and it must sign with the platform's WebCrypto.
 */
import "reflect-metadata"
import * as x509 from "@peculiar/x509"

x509.cryptoProvider.set(globalThis.crypto)

export { x509 }
