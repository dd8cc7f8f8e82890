/**
 * A certificate's name: the one Schema that config decoding, CLI options, Storage, Revocation and the
 * run's buckets share. It becomes a folder name (`live/<name>/`), so it is checked once, here.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

const pattern = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/

/**
 * What is wrong with a name that cannot be a certificate name, in one line.
 *
 * @since 0.1.0
 * @category messages
 */
export const describeInvalid = (name: string): string =>
  `"${name}" cannot be a certificate name: use 1 to 64 letters, digits, ".", "_" or "-", not starting with "." (it becomes a folder name, so no "/", ".." or spaces)`

/**
 * Letters, digits, `.`, `_`, `-`; not starting with `.`; at most 64 characters.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CertificateName = Schema.String.pipe(
  Schema.filter((name) => pattern.test(name) || describeInvalid(name)),
  Schema.brand("@acme/sdk/CertificateName")
).annotations({ identifier: "CertificateName" })

/**
 * @since 0.1.0
 * @category models
 */
export type CertificateName = typeof CertificateName.Type

/**
 * Whether a string is a certificate name.
 *
 * @since 0.1.0
 * @category guards
 */
export const is: (name: unknown) => name is CertificateName = Schema.is(CertificateName)

/**
 * A certificate name from a literal in code, e.g. `CertificateName.make("web")`; an invalid name
 * throws at once (it is the Schema's constructor). Decode untrusted text with the `CertificateName`
 * Schema instead, which fails with the one-line reason.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (name: string): CertificateName => CertificateName.make(name)
