/**
 * Managing the stored account at its CA: show, key rollover, contact update, deactivation. The
 * account is the one the configuration names (`account.name`) at the configured CA; `acme renew`
 * creates it.
 *
 * Key rollover is crash-safe: the new key is saved (the account's rollover key, inside the account's
 * own record) before the CA is asked to switch, and a rollover that was interrupted after the switch
 * is completed by the next one. A deactivation is recorded with the account: `show` then says so
 * without asking the CA (which refuses the account for good), and `acme renew` says how to go on.
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { type Account as AccountResource, type AccountRef, AccountStatus } from "./Account.js"
import * as AccountKey from "./AccountKey.js"
import type { ProtocolError } from "./AcmeError.js"
import { AcmeProtocol } from "./AcmeProtocol.js"
import * as ChallengeResponse from "./ChallengeResponse.js"
import { directoryUrl as configuredDirectoryUrl, RenewalSettings } from "./RenewalSettings.js"
import { type AccountInfo, Storage, type StorageError } from "./Storage.js"

/**
 * @since 0.1.0
 * @category errors
 */
export class NoAccount extends Schema.TaggedError<NoAccount>("@acme/sdk/Accounts/NoAccount")("NoAccount", {
  name: Schema.String,
  directoryUrl: Schema.String,
  location: Schema.String
}) {
  override get message(): string {
    return `no account "${this.name}" for ${this.directoryUrl} is stored in ${this.location}; \`acme renew\` creates one`
  }
}

/**
 * What is known about the account, locally and at the CA (`acme account show --json`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Summary = Schema.Struct({
  name: Schema.String,
  url: Schema.String,
  directoryUrl: Schema.String,
  status: AccountStatus,
  contact: Schema.Array(Schema.String),
  createdAt: Schema.String,
  algorithm: Schema.Literal("ES256", "ES384", "RS256"),
  keyThumbprint: Schema.String,
  /**
   * the account's dns-account-01 label (`ChallengeResponse.dnsAccountLabel`, without the `_`): its
   * records go at `_<label>._acme-challenge.<name>`, e.g. for a CNAME set up in advance
   */
  dnsAccountLabel: Schema.String,
  /** when it was deactivated (recorded by `deactivate`) */
  deactivatedAt: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export type Summary = typeof Summary.Type

type Requirements = AcmeProtocol | Storage | RenewalSettings
type Failure = NoAccount | ProtocolError | StorageError

const load = Effect.gen(function*() {
  const settings = yield* RenewalSettings
  const storage = yield* Storage
  const directoryUrl = yield* configuredDirectoryUrl
  const name = settings.config.account.name
  const stored = yield* storage.loadAccount(directoryUrl, name)
  const missing = new NoAccount({ name, directoryUrl, location: storage.location })
  if (Option.isNone(stored)) return yield* missing
  const info = stored.value.info
  if (Option.isNone(info)) return yield* missing
  const key = yield* AccountKey.fromPem(stored.value.keyPem)
  return { name, directoryUrl, info: info.value, account: { key, url: info.value.url } satisfies AccountRef }
})

const summary = (
  name: string,
  directoryUrl: string,
  info: AccountInfo,
  key: AccountKey.AccountKey,
  resource: Pick<AccountResource, "status" | "contact">
): Effect.Effect<Summary> =>
  Effect.map(ChallengeResponse.dnsAccountLabel(info.url), (label) => ({
    name,
    url: info.url,
    directoryUrl,
    status: resource.status,
    contact: resource.contact,
    createdAt: info.createdAt,
    algorithm: key.algorithm,
    keyThumbprint: key.thumbprint,
    dnsAccountLabel: label,
    deactivatedAt: info.deactivatedAt
  }))

/**
 * The stored account, as the CA sees it now.
 *
 * @since 0.1.0
 * @category programs
 */
export const show: Effect.Effect<Summary, Failure, Requirements> = Effect.gen(function*() {
  const acme = yield* AcmeProtocol
  const { account, directoryUrl, info, name } = yield* load
  // the CA refuses a deactivated account's requests for good: what is recorded is all there is
  if (info.deactivatedAt !== undefined) {
    return yield* summary(name, directoryUrl, info, account.key, { status: "deactivated", contact: info.contact })
  }
  const directory = yield* acme.directory
  const fetched = yield* acme.getAccount({ nonce: yield* acme.newNonce(directory), account })
  return yield* summary(name, directoryUrl, info, account.key, fetched.value)
}).pipe(Effect.withSpan("Accounts.show"))

/**
 * Replaces the account's contacts with these e-mail addresses (none: no contact).
 *
 * @since 0.1.0
 * @category programs
 */
export const updateContact = (emails: ReadonlyArray<string>): Effect.Effect<Summary, Failure, Requirements> =>
  Effect.gen(function*() {
    const acme = yield* AcmeProtocol
    const storage = yield* Storage
    const { account, directoryUrl, info, name } = yield* load
    const directory = yield* acme.directory
    const updated = yield* acme.updateAccount({
      nonce: yield* acme.newNonce(directory),
      account,
      contact: emails.map((email) => `mailto:${email}`)
    })
    const next = { ...info, contact: updated.value.contact }
    yield* storage.saveAccountInfo(directoryUrl, name, next)
    return yield* summary(name, directoryUrl, next, account.key, updated.value)
  }).pipe(Effect.withSpan("Accounts.updateContact"))

/**
 * Deactivates the account at the CA, for good (RFC 8555 §7.3.6). Its certificates stay valid; new
 * orders need a new account (`acme renew` creates one under another `account.name`).
 *
 * @since 0.1.0
 * @category programs
 */
export const deactivate: Effect.Effect<Summary, Failure, Requirements> = Effect.gen(function*() {
  const acme = yield* AcmeProtocol
  const storage = yield* Storage
  const { account, directoryUrl, info, name } = yield* load
  const directory = yield* acme.directory
  const deactivated = yield* acme.deactivateAccount({ nonce: yield* acme.newNonce(directory), account })
  const recorded: AccountInfo = { ...info, deactivatedAt: DateTime.formatIso(yield* DateTime.now) }
  yield* storage.saveAccountInfo(directoryUrl, name, recorded)
  return yield* summary(name, directoryUrl, recorded, account.key, deactivated.value)
}).pipe(Effect.withSpan("Accounts.deactivate"))

/**
 * Rolls the account over to a new key (RFC 8555 §7.3.5); the old key is refused afterwards.
 *
 * @since 0.1.0
 * @category programs
 */
export const rollover = (algorithm?: AccountKey.Algorithm): Effect.Effect<Summary, Failure, Requirements> =>
  Effect.gen(function*() {
    const acme = yield* AcmeProtocol
    const storage = yield* Storage
    const { account, directoryUrl, info, name } = yield* load
    const directory = yield* acme.directory
    let nonce = yield* acme.newNonce(directory)

    const finish = (key: AccountKey.AccountKey) =>
      Effect.gen(function*() {
        yield* storage.saveAccountKey(directoryUrl, name, yield* AccountKey.toPem(key))
        const next: AccountInfo = { ...info, keyThumbprint: key.thumbprint }
        yield* storage.saveAccountInfo(directoryUrl, name, next)
        // recorded: the staged key has done its job
        yield* storage.saveRolloverKey(directoryUrl, name, Option.none())
        const fetched = yield* acme.getAccount({ nonce, account: { key, url: info.url } })
        return yield* summary(name, directoryUrl, next, key, fetched.value)
      })

    // an earlier rollover that the CA completed but we did not record: finish it
    const staged = yield* storage.loadRolloverKey(directoryUrl, name)
    if (Option.isSome(staged)) {
      const key = yield* AccountKey.fromPem(staged.value)
      if (key.thumbprint !== account.key.thumbprint) {
        const found = yield* Effect.either(
          acme.newAccount({ directory, nonce, key, onlyReturnExisting: true })
        )
        if (found._tag === "Right" && found.right.value.url === info.url) {
          nonce = found.right.nonce
          yield* Effect.logInfo("completing an interrupted key rollover")
          return yield* finish(key)
        }
        // the lookup used the nonce up
        if (found._tag === "Left") nonce = yield* acme.newNonce(directory)
      }
    }

    const newKey = yield* AccountKey.generate(algorithm ?? account.key.algorithm)
    yield* storage.saveRolloverKey(directoryUrl, name, Option.some(yield* AccountKey.toPem(newKey)))
    const changed = yield* acme.changeKey({ directory, nonce, account, newKey })
    nonce = changed.nonce
    yield* Effect.logInfo(`account ${info.url} now signs with ${newKey.thumbprint} (${DateTime.formatIso(yield* DateTime.now)})`)
    return yield* finish(newKey)
  }).pipe(Effect.withSpan("Accounts.rollover"))
