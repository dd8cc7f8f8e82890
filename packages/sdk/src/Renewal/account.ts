/**
 * account: makes sure the configured account exists at the CA, and fetches the directory and the
 * bucket's first nonce (when the run does not hold them yet).
 *
 * A known account (its URL stored with its key) costs no request of its own. A new one
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
import { nowIso } from "./context.js"
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
    // the certificate's sequence of signed requests starts here: the CA's directory, then its first nonce
    yield* directory
    const stored = yield* storage.loadAccount(state.directoryUrl, config.name)
    const known = Option.flatMap(stored, (s) => s.info)
    if (Option.isSome(known)) {
      yield* nonce
      return { accountUrl: known.value.url, stage: "order" } as const
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
