/**
 * ACME identifiers: DNS names (RFC 8555 §7.1.4) and IP addresses (RFC 8738).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { InvalidIdentifier } from "./AcmeError.js"

/**
 * @since 0.1.0
 * @category schemas
 */
export const IdentifierType = Schema.Literal("dns", "ip")

/**
 * An identifier as it appears on the wire: `{ "type": "dns", "value": "example.org" }`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Identifier = Schema.Struct({
  type: Schema.String,
  value: Schema.String
})

/**
 * @since 0.1.0
 * @category models
 */
export interface Identifier {
  readonly type: string
  readonly value: string
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const dns = (value: string): Identifier => ({ type: "dns", value })

/**
 * @since 0.1.0
 * @category constructors
 */
export const ip = (value: string): Identifier => ({ type: "ip", value })

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/

/**
 * The canonical text of an IPv6 address (lower case, `::` compressed), or `undefined` when the
 * text is not one. Uses the WHATWG URL parser, which every platform has.
 */
const canonicalIpv6 = (text: string): string | undefined => {
  if (!text.includes(":") || !/^[0-9a-fA-F:.]+$/.test(text)) return undefined
  if (!URL.canParse(`http://[${text}]/`)) return undefined
  const host = new URL(`http://[${text}]/`).hostname
  return host.slice(1, -1)
}

/**
 * Whether a text is an IPv4 or IPv6 address literal.
 *
 * @since 0.1.0
 * @category guards
 */
export const isIpAddress = (text: string): boolean => IPV4.test(text) || canonicalIpv6(text) !== undefined

/**
 * Whether a text is a valid DNS name for a certificate: letters, digits and hyphens in labels of at
 * most 63 characters, at least two labels, at most 253 characters, optionally starting with `*.`.
 *
 * @since 0.1.0
 * @category guards
 */
export const isDnsName = (text: string): boolean => {
  const name = text.startsWith("*.") ? text.slice(2) : text
  if (name.length === 0 || name.length > 253) return false
  const labels = name.split(".")
  if (labels.length < 2) return false
  if (!labels.every((label) => LABEL.test(label))) return false
  // a name made of digits and dots only is an IP literal in disguise
  return !/^[0-9.]+$/.test(name)
}

/**
 * Parses what a user wrote ("example.org", "*.example.org", "192.0.2.1", "2001:db8::1") into a
 * normalised identifier: DNS names in lower case without a trailing dot, IPv6 in canonical form.
 *
 * @since 0.1.0
 * @category constructors
 */
export const parse = (text: string): Effect.Effect<Identifier, InvalidIdentifier> => {
  const trimmed = text.trim()
  if (IPV4.test(trimmed)) return Effect.succeed(ip(trimmed))
  const v6 = canonicalIpv6(trimmed)
  if (v6 !== undefined) return Effect.succeed(ip(v6))
  const name = trimmed.toLowerCase().replace(/\.$/, "")
  if (isDnsName(name)) return Effect.succeed(dns(name))
  return Effect.fail(new InvalidIdentifier({ value: text }))
}

/**
 * Parses several identifiers, failing on the first invalid one; duplicates are removed, order kept.
 *
 * @since 0.1.0
 * @category constructors
 */
export const parseAll = (
  texts: ReadonlyArray<string>
): Effect.Effect<ReadonlyArray<Identifier>, InvalidIdentifier> =>
  Effect.map(Effect.forEach(texts, parse), (identifiers) => {
    const seen = new Set<string>()
    return identifiers.filter((identifier) => {
      const key = `${identifier.type}:${identifier.value}`
      if (seen.has(key)) return false
      seen.add(key)
      return true
    })
  })

/**
 * `dns:example.org` / `ip:192.0.2.1`, for messages and map keys.
 *
 * @since 0.1.0
 * @category combinators
 */
export const format = (identifier: Identifier): string => `${identifier.type}:${identifier.value}`

/**
 * Whether two identifiers are the same (type and value; DNS names case-insensitively, IPv6
 * addresses however they are written).
 *
 * @since 0.1.0
 * @category combinators
 */
export const equals = (a: Identifier, b: Identifier): boolean =>
  a.type === b.type && (a.type === "dns"
    ? a.value.toLowerCase() === b.value.toLowerCase()
    : a.value === b.value || (canonicalIpv6(a.value) ?? a.value) === (canonicalIpv6(b.value) ?? b.value))

/**
 * The challenge types that can prove control of a name as written in a configuration: a wildcard
 * (`*.example.org`) only dns-01 or dns-account-01 (an HTTP or TLS answer at the base name cannot speak for every name
 * under it, so CAs offer nothing else for it), an IP address only http-01 or tls-alpn-01 (RFC 8738:
 * there is no DNS zone to put a DNS record in), any other DNS name all four.
 *
 * @since 0.1.0
 * @category combinators
 */
export const challengeTypesFor = (
  text: string
): ReadonlyArray<"http-01" | "dns-01" | "dns-account-01" | "tls-alpn-01"> => {
  const trimmed = text.trim()
  if (isIpAddress(trimmed)) return ["http-01", "tls-alpn-01"]
  if (trimmed.startsWith("*.")) return ["dns-01", "dns-account-01"]
  return ["http-01", "dns-01", "dns-account-01", "tls-alpn-01"]
}
