/**
 * AES-256-GCM for private keys at rest. A sealed value is
 *
 * ```
 * 0x01 (format) | 12-byte random IV | 16-byte tag | ciphertext
 * ```
 *
 * and its additional authenticated data names the row it belongs to (`certificate:<name>`, ...), so
 * that a sealed key copied into another row does not open there.
 */
import * as Either from "effect/Either"
import * as Crypto from "node:crypto"

const format = 1
const ivLength = 12
const tagLength = 16

/** a 32-byte key */
export type Key = Uint8Array

/** @internal */
export const keyLength = 32

/** @internal */
export const seal = (key: Key, plaintext: string, aad: string): Buffer => {
  const iv = Crypto.randomBytes(ivLength)
  const cipher = Crypto.createCipheriv("aes-256-gcm", key, iv, { authTagLength: tagLength })
  cipher.setAAD(Buffer.from(aad, "utf8"))
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()])
  return Buffer.concat([Buffer.of(format), iv, cipher.getAuthTag(), ciphertext])
}

/** the plaintext, or why it cannot be had (never the key or the plaintext) */
export const open = (key: Key, sealed: Uint8Array, aad: string): Either.Either<string, string> => {
  if (sealed.length < 1 + ivLength + tagLength || sealed[0] !== format) {
    return Either.left("it is not a value sealed by this storage (unknown format)")
  }
  const iv = sealed.subarray(1, 1 + ivLength)
  const tag = sealed.subarray(1 + ivLength, 1 + ivLength + tagLength)
  const ciphertext = sealed.subarray(1 + ivLength + tagLength)
  return Either.try({
    try: () => {
      const decipher = Crypto.createDecipheriv("aes-256-gcm", key, iv, { authTagLength: tagLength })
      decipher.setAAD(Buffer.from(aad, "utf8"))
      decipher.setAuthTag(tag)
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString("utf8")
    },
    catch: () => "it does not open with the configured encryption key (another key, or the value was altered)"
  })
}
