/**
 * Errors of local work: keys, CSRs, certificates and identifiers that cannot be built or read.
 */
import * as Schema from "effect/Schema"
import { oneLine } from "./problem.js"

/**
 * A key could not be generated, imported or exported.
 *
 * @since 0.1.0
 * @category errors
 */
export class KeyError extends Schema.TaggedError<KeyError>("@acme/sdk/AcmeError/KeyError")("KeyError", {
  reason: Schema.Literal("Generate", "Import", "Export", "Sign", "UnsupportedAlgorithm"),
  description: Schema.String
}) {
  override get message(): string {
    switch (this.reason) {
      case "Import":
        return `cannot read the key: ${
          oneLine(this.description)
        }; supply a PKCS#8 PEM or JWK private key of type EC P-256, EC P-384 or RSA`
      case "UnsupportedAlgorithm":
        return `unsupported key: ${oneLine(this.description)}; use ES256, ES384 or RS256 (ec-p256, ec-p384, rsa-2048/3072/4096)`
      default:
        return `key ${this.reason.toLowerCase()} failed: ${oneLine(this.description)}`
    }
  }
}

/**
 * A certificate signing request could not be built or read.
 *
 * @since 0.1.0
 * @category errors
 */
export class CsrError extends Schema.TaggedError<CsrError>("@acme/sdk/AcmeError/CsrError")("CsrError", {
  reason: Schema.Literal("Create", "Parse", "NoIdentifiers"),
  description: Schema.String
}) {
  override get message(): string {
    return `CSR ${this.reason === "Create" ? "creation" : "parsing"} failed: ${
      oneLine(this.description)
    }; a CSR must be PEM (CERTIFICATE REQUEST) and name every identifier as a subjectAltName`
  }
}

/**
 * A certificate (or chain) could not be parsed.
 *
 * @since 0.1.0
 * @category errors
 */
export class CertificateError extends Schema.TaggedError<CertificateError>("@acme/sdk/AcmeError/CertificateError")(
  "CertificateError",
  {
    reason: Schema.Literal("Parse", "EmptyChain", "MissingExtension", "Create"),
    description: Schema.String
  }
) {
  override get message(): string {
    return `certificate ${this.reason === "Create" ? "creation" : "reading"} failed: ${
      oneLine(this.description)
    }; expected PEM certificates (-----BEGIN CERTIFICATE-----)`
  }
}

/**
 * A name is neither a valid DNS name nor an IP address.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidIdentifier
  extends Schema.TaggedError<InvalidIdentifier>("@acme/sdk/AcmeError/InvalidIdentifier")("InvalidIdentifier", {
    value: Schema.String
  })
{
  override get message(): string {
    return `"${this.value}" is not a valid DNS name or IP address; use names like example.org, *.example.org, 192.0.2.1 or 2001:db8::1`
  }
}
