/**
 * Checks of the configuration that several fields take part in, made when it is read, not after an
 * account and an order were made for nothing: whether a certificate's challenge type can prove each
 * of its names, and whether the CA's directory is reached in clear text.
 */
import * as Identifier from "../Identifier.js"

/** true, or the first name the challenge type cannot validate, as a Schema filter's issue */
export const challengeMismatch = (spec: {
  readonly name: string
  readonly domains: ReadonlyArray<string>
  readonly challenge: { readonly type: string }
}): true | { readonly path: ReadonlyArray<PropertyKey>; readonly message: string } => {
  const type = spec.challenge.type
  for (const [index, domain] of spec.domains.entries()) {
    const types: ReadonlyArray<string> = Identifier.challengeTypesFor(domain)
    if (types.includes(type)) continue
    const wildcard = !types.includes("http-01")
    const what = wildcard
      ? "a wildcard, which only dns-01 or dns-account-01 can validate"
      : "an IP address, which only http-01 or tls-alpn-01 can validate"
    const instead = wildcard ? "dns-01 (with a DNS provider)" : "http-01 or tls-alpn-01"
    return {
      path: ["domains", index],
      message: `"${domain}" is ${what}, and certificate ${spec.name} uses ${type}: give it challenge type ${instead}, or move "${domain}" to a certificate that uses it`
    }
  }
  return true
}

/**
 * The check `CaConfig` makes of its fields, for a schema that extends them (the `acme` command's
 * file adds `ca.trust`): an `http://` directory URL is refused unless `insecure` is `true`.
 *
 * @since 0.1.0
 * @category filters
 */
export const cleartextRefused = (
  ca: { readonly directory: string; readonly insecure?: boolean | undefined }
): true | { readonly path: ReadonlyArray<PropertyKey>; readonly message: string } =>
  ca.insecure === true || !ca.directory.startsWith("http://") || {
    path: ["directory"],
    message:
      `${ca.directory} is not encrypted: account keys would sign requests sent in clear text; use the CA's https:// URL (or, for a test CA on this machine only, set ca.insecure: true)`
  }
