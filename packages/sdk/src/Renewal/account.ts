/**
 * account: makes sure the configured account exists at the CA, and fetches the bucket's first nonce.
 *
 * A known account (its URL stored with its key) costs no request at all. A new one gets its key
 * written to storage (0600) before newAccount, so that a crash right after registering still finds
 * the same account on the next run: newAccount with the same key returns it (RFC 8555 §7.3.1).
 * The key is read from storage when it is needed and never enters the state.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as AccountKey from "../AccountKey.js"
import type { ProtocolError } from "../AcmeError.js"
import { AcmeProtocol } from "../AcmeProtocol.js"
import type { State } from "../RenewalState.js"
import { Storage, type StorageError } from "../Storage.js"
import { directoryOf, nonceFor, nowIso, RenewalSettings, threadNonce, updateCurrent } from "./context.js"

/**
 * @since 0.1.0
 * @category stages
 */
export const account = (
  state: State
): Effect.Effect<State, ProtocolError | StorageError, AcmeProtocol | Storage | RenewalSettings> =>
  Effect.gen(function*() {
    const settings = yield* RenewalSettings
    const storage = yield* Storage
    const acme = yield* AcmeProtocol
    const { account: config } = settings.config
    const directory = yield* directoryOf(state)
    let next: State = { ...state, directory }
    const stored = yield* storage.loadAccount(state.directoryUrl, config.name)
    const info = Option.flatMap(stored, (s) => s.info)
    if (Option.isSome(info)) {
      const nonce = yield* nonceFor(next, directory)
      return updateCurrent(next, (bucket) => ({ ...bucket, accountUrl: info.value.url, nonce, stage: "order" }))
    }
    const key = Option.isSome(stored)
      ? yield* AccountKey.fromPem(stored.value.keyPem)
      : yield* AccountKey.generate(config.key)
    if (Option.isNone(stored)) {
      yield* storage.saveAccountKey(state.directoryUrl, config.name, yield* AccountKey.toPem(key))
    }
    const contact = config.email !== undefined ? [`mailto:${config.email}`] : []
    const created = yield* acme.newAccount({
      directory,
      nonce: yield* nonceFor(next, directory),
      key,
      contact,
      termsOfServiceAgreed: config.agreeToTerms,
      externalAccountBinding: Option.getOrUndefined(
        Option.map(settings.eab, (eab) => ({ keyId: eab.keyId, hmacKey: Redacted.value(eab.hmacKey) }))
      )
    })
    const [registered, threaded] = threadNonce(next, created)
    next = threaded
    yield* storage.saveAccountInfo(state.directoryUrl, config.name, {
      url: registered.url,
      directoryUrl: state.directoryUrl,
      contact: registered.contact,
      createdAt: yield* nowIso,
      keyThumbprint: key.thumbprint
    })
    yield* Effect.logInfo(
      `${registered.created ? "created" : "found"} account ${registered.url} at ${state.directoryUrl}`
    )
    return updateCurrent(next, (bucket) => ({ ...bucket, accountUrl: registered.url, stage: "order" }))
  })
