/**
 * The key that encrypts private keys (account and certificate keys) at rest: 32 random bytes,
 * given as `{ env: NAME }` (base64 or hex in an environment variable) or `{ file: PATH }` (a file
 * holding the 32 bytes, or their base64 or hex). Make one with `openssl rand -base64 32`.
 *
 * A missing or unusable key is an error before anything is written: the storage never writes a
 * private key in plaintext. A key that differs from the one the database was first written with is
 * refused too (`Mismatch`), so that one database never holds keys under two encryption keys.
 *
 * @since 0.1.0
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Encoding from "effect/Encoding"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { keyLength } from "./internal/cipher.js"

/**
 * Where the key is: `{ env: NAME }` or `{ file: PATH }`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const KeySource = Schema.Union(
  Schema.Struct({ env: Schema.String.pipe(Schema.pattern(/^[A-Za-z_][A-Za-z0-9_]*$/)) }),
  Schema.Struct({ file: Schema.String.pipe(Schema.minLength(1)) })
)

/**
 * @since 0.1.0
 * @category models
 */
export type KeySource = typeof KeySource.Type

/**
 * `Missing` (not set, empty, or no such file), `Invalid` (not 32 bytes in a known form),
 * `Mismatch` (not the key the database was written with).
 *
 * @since 0.1.0
 * @category errors
 */
export class EncryptionKeyError
  extends Schema.TaggedError<EncryptionKeyError>("@acme/storage-postgres/EncryptionKeyError")("EncryptionKeyError", {
    reason: Schema.Literal("Missing", "Invalid", "Mismatch"),
    /** where the key was looked for, e.g. `the environment variable ACME_STORAGE_KEY` */
    source: Schema.String,
    description: Schema.String
  })
{
  override get message(): string {
    const make = "32 random bytes in base64 (make them with: openssl rand -base64 32)"
    switch (this.reason) {
      case "Missing":
        return `the storage encryption key is missing: ${this.source} ${this.description}; set it to ${make}`
      case "Invalid":
        return `the storage encryption key in ${this.source} is not usable: ${this.description}; it must be ${make} or 64 hex digits`
      case "Mismatch":
        return `the storage encryption key in ${this.source} is not the key this database was written with (${this.description}); give that key: another one cannot read the stored private keys`
    }
  }
}

/**
 * A loaded key. Its bytes are `Redacted`: they print as `<redacted>`.
 *
 * @since 0.1.0
 * @category models
 */
export interface EncryptionKey {
  readonly bytes: Redacted.Redacted<Uint8Array>
  /** where it came from, for messages */
  readonly source: string
}

/**
 * Describes a source for messages.
 *
 * @since 0.1.0
 * @category combinators
 */
export const describeSource = (source: KeySource): string =>
  "env" in source ? `the environment variable ${source.env}` : `the file ${source.file}`

/**
 * The key from its text (base64, base64url or hex) or, for a file, its 32 raw bytes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const decode = (content: string | Uint8Array, source: string): Either.Either<EncryptionKey, EncryptionKeyError> => {
  if (typeof content !== "string" && content.length === keyLength) {
    return Either.right({ bytes: Redacted.make(Uint8Array.from(content)), source })
  }
  const text = (typeof content === "string" ? content : new TextDecoder().decode(content)).trim()
  const invalid = (description: string) => Either.left(new EncryptionKeyError({ reason: "Invalid", source, description }))
  if (text.length === 0) {
    return Either.left(new EncryptionKeyError({ reason: "Missing", source, description: "is empty" }))
  }
  const decoded = /^[0-9a-fA-F]{64}$/.test(text)
    ? Encoding.decodeHex(text)
    // padded base64; unpadded text of letters and digits only is base64url (below)
    : /^[A-Za-z0-9+/]+={0,2}$/.test(text) && text.length % 4 === 0
    ? Encoding.decodeBase64(text)
    : /^[A-Za-z0-9_-]+$/.test(text)
    ? Encoding.decodeBase64Url(text)
    : undefined
  if (decoded === undefined) return invalid(`it is ${text.length} characters that are neither base64 nor hex`)
  if (Either.isLeft(decoded)) return invalid("it does not decode as base64 or hex")
  return decoded.right.length === keyLength
    ? Either.right({ bytes: Redacted.make(decoded.right), source })
    : invalid(`it decodes to ${decoded.right.length} bytes instead of ${keyLength}`)
}

/**
 * Reads the key: an environment variable through Effect's `Config` (so a `ConfigProvider` can
 * supply it), a file through `FileSystem`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const load = (source: KeySource): Effect.Effect<EncryptionKey, EncryptionKeyError, FileSystem.FileSystem> => {
  const where = describeSource(source)
  if ("env" in source) {
    return Config.redacted(source.env).pipe(
      Effect.mapError(() => new EncryptionKeyError({ reason: "Missing", source: where, description: "is not set" })),
      Effect.flatMap((value) => decode(Redacted.value(value), where))
    )
  }
  return Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFile(source.file)).pipe(
    Effect.mapError((error) =>
      new EncryptionKeyError({
        reason: "Missing",
        source: where,
        description: error._tag === "SystemError" && error.reason === "NotFound"
          ? "does not exist"
          : `cannot be read (${error.message.replace(/\s+/g, " ")})`
      })
    ),
    Effect.flatMap((content) => decode(content, where))
  )
}
