/**
 * account: makes sure the configured account exists at the CA, and fetches the directory and the
 * bucket's first nonce (when the run does not hold them yet). A certificate whose profile the
 * directory does not list (when it lists profiles) fails here, its first contact with the CA, with
 * the profiles it lists: no nonce, account or order is spent on it.
 *
 * A known account (its URL stored with its key) costs no request of its own, unless `account.email`
 * changed: the account's contact at the CA is then updated, with a notice. One that `acme account
 * deactivate` deactivated fails at once, saying how to start a new account. A new one
 * gets its key written to storage (0600) before newAccount, so that a crash right after registering
 * still finds the same account on the next run: newAccount with the same key returns it (RFC 8555
 * §7.3.1). The key is read from storage when it is needed and never enters the state.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as AccountKey from "../AccountKey.js"
import { AcmeProtocol } from "../AcmeProtocol.js"
import { RenewalSettings } from "../RenewalSettings.js"
import { Storage } from "../Storage.js"
import { currentSpec, nowIso, PipelineError } from "./context.js"
import { profileUnavailable } from "./ordering.js"
import * as Stage from "./stage.js"

/**
 * @since 0.1.0
 * @category stages
 */
export const account = Stage.make(({ directory, nonce, signed, state }) =>
  Effect.gen(function*() {
    const settings = yield* RenewalSettings
    const storage = yield* Storage
    const acme = yield* AcmeProtocol
    const { account: config } = settings.config
    // the certificate's sequence of signed requests starts here: the CA's directory, then its first
    // nonce. A profile the directory does not list fails the certificate now, before any request for it.
    const listed = yield* directory
    const spec = yield* currentSpec(state)
    const unavailable = profileUnavailable(spec, listed)
    if (Option.isSome(unavailable)) return yield* unavailable.value
    const stored = yield* storage.loadAccount(state.directoryUrl, config.name)
    const known = Option.flatMap(stored, (s) => s.info)
    if (Option.isSome(stored) && Option.isSome(known)) {
      const info = known.value
      if (info.deactivatedAt !== undefined) {
        return yield* new PipelineError({
          reason: "AccountDeactivated",
          certificate: state.current ?? "",
          description: `the account ${config.name} at ${state.directoryUrl} was deactivated on ${info.deactivatedAt} and cannot be used again; set account.name to a new name (e.g. ${config.name}-2) and run \`acme renew\`: it creates a new account`
        })
      }
      const contact = config.email !== undefined ? `mailto:${config.email}` : undefined
      if (contact !== undefined && !info.contact.includes(contact)) {
        const key = yield* AccountKey.fromPem(stored.value.keyPem)
        const updated = yield* signed((nonce) => acme.updateAccount({ nonce, account: { key, url: info.url }, contact: [contact] }))
        yield* storage.saveAccountInfo(state.directoryUrl, config.name, { ...info, contact: updated.contact })
        yield* Effect.logInfo(
          `account.email changed: the contact of account ${info.url} at ${state.directoryUrl} is now ${contact} (was ${
            info.contact.length > 0 ? info.contact.join(", ") : "none"
          })`
        )
      }
      yield* nonce
      return { accountUrl: info.url, stage: "order" } as const
    }
    // a new key is saved only if no other run saved one first (runs on other certificates may set
    // the account up at the same moment): every run registers the key that is stored
    const key = yield* AccountKey.fromPem(
      Option.isSome(stored)
        ? stored.value.keyPem
        : yield* storage.createAccountKey(
          state.directoryUrl,
          config.name,
          yield* AccountKey.toPem(yield* AccountKey.generate(config.key))
        )
    )
    const registered = yield* signed((nonce, directory) =>
      acme.newAccount({
        directory,
        nonce,
        key,
        contact: config.email !== undefined ? [`mailto:${config.email}`] : [],
        termsOfServiceAgreed: config.agreeToTerms,
        externalAccountBinding: Option.getOrUndefined(
          Option.map(settings.eab, (eab) => ({ keyId: eab.keyId, hmacKey: Redacted.value(eab.hmacKey) }))
        )
      })
    )
    yield* storage.saveAccountInfo(state.directoryUrl, config.name, {
      url: registered.url,
      directoryUrl: state.directoryUrl,
      contact: registered.contact,
      createdAt: yield* nowIso,
      keyThumbprint: key.thumbprint
    })
    yield* Effect.logInfo(`${registered.created ? "created" : "found"} account ${registered.url} at ${state.directoryUrl}`)
    return { accountUrl: registered.url, stage: "order" } as const
  })
)
