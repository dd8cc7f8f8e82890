/**
 * API keys: 256 random bits, shown once when created (`acme_<base64url>`), stored only as their
 * SHA-256 hash, compared in constant time. `read` keys may GET; `write` keys may also POST.
 * Creating and revoking a key is written to the audit log.
 *
 * @since 0.1.0
 */
import type { ServiceRecords } from "@acme/sdk"
import type { StorageError } from "@acme/sdk/StorageError"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { createHash, timingSafeEqual } from "node:crypto"

/**
 * What every key starts with (so that secret scanners and people recognise one).
 *
 * @since 0.1.0
 * @category constants
 */
export const prefix = "acme_"

/**
 * SHA-256 of a key, hex.
 *
 * @since 0.1.0
 * @category combinators
 */
export const hash = (key: string): string => createHash("sha256").update(key, "utf8").digest("hex")

const random = (bytes: number): Uint8Array => globalThis.crypto.getRandomValues(new Uint8Array(bytes))

/**
 * A key just made: its record (stored) and the key itself (shown once, never stored).
 *
 * @since 0.1.0
 * @category models
 */
export interface Created {
  readonly record: ServiceRecords.ApiKey
  readonly key: Redacted.Redacted<string>
}

/**
 * Makes a key, stores its hash, and writes `apikey.create` to the audit log.
 *
 * @since 0.1.0
 * @category constructors
 */
export const create = (
  records: ServiceRecords.Store,
  options: { readonly name: string; readonly scope: ServiceRecords.ApiKeyScope; readonly actor: string }
): Effect.Effect<Created, StorageError> =>
  Effect.gen(function*() {
    const now = DateTime.formatIso(yield* DateTime.now)
    const key = `${prefix}${Encoding.encodeBase64Url(random(32))}`
    const record: ServiceRecords.ApiKey = {
      id: `k_${Encoding.encodeHex(random(6))}`,
      name: options.name,
      scope: options.scope,
      sha256: hash(key),
      createdAt: now
    }
    yield* records.saveApiKey(record)
    yield* records.appendAudit({
      time: now,
      actor: options.actor,
      action: "apikey.create",
      result: "created",
      detail: `${record.id} "${record.name}" (${record.scope})`
    })
    return { record, key: Redacted.make(key) }
  })

/**
 * Revokes a key by id: it stays listed, with the time it was revoked. None when there is no such
 * key; a key revoked already keeps its first revocation time.
 *
 * @since 0.1.0
 * @category combinators
 */
export const revoke = (
  records: ServiceRecords.Store,
  id: string,
  actor: string
): Effect.Effect<Option.Option<ServiceRecords.ApiKey>, StorageError> =>
  Effect.gen(function*() {
    const found = (yield* records.listApiKeys).find((key) => key.id === id)
    if (found === undefined) return Option.none()
    if (found.revokedAt !== undefined) return Option.some(found)
    const now = DateTime.formatIso(yield* DateTime.now)
    const revoked = { ...found, revokedAt: now }
    yield* records.saveApiKey(revoked)
    yield* records.appendAudit({
      time: now,
      actor,
      action: "apikey.revoke",
      result: "revoked",
      detail: `${found.id} "${found.name}"`
    })
    return Option.some(revoked)
  })

/**
 * What a presented key turned out to be.
 *
 * @since 0.1.0
 * @category models
 */
export type Verdict =
  | { readonly _tag: "Valid"; readonly key: ServiceRecords.ApiKey }
  | { readonly _tag: "Revoked"; readonly key: ServiceRecords.ApiKey }
  | { readonly _tag: "Unknown" }

/**
 * Looks a presented key up by its hash, comparing every stored hash in constant time.
 *
 * @since 0.1.0
 * @category combinators
 */
export const verify = (
  records: ServiceRecords.Store,
  presented: Redacted.Redacted<string>
): Effect.Effect<Verdict, StorageError> =>
  Effect.map(records.listApiKeys, (keys): Verdict => {
    const digest = Buffer.from(hash(Redacted.value(presented)), "hex")
    let match: ServiceRecords.ApiKey | undefined
    for (const key of keys) {
      const stored = Buffer.from(key.sha256, "hex")
      if (stored.length === digest.length && timingSafeEqual(stored, digest)) match = key
    }
    if (match === undefined) return { _tag: "Unknown" }
    return match.revokedAt === undefined ? { _tag: "Valid", key: match } : { _tag: "Revoked", key: match }
  })
