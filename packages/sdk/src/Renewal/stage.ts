/**
 * How a stage of the renewal pipeline runs, and the one way it makes a signed call.
 *
 * A stage is a body over the current certificate's bucket: it gets a {@link Step} and returns the
 * changes to the bucket. Its signed calls go through `step.signed`:
 *
 * ```ts
 * const order = yield* step.signed((nonce, directory) => acme.newOrder({ directory, nonce, account, order }))
 * ```
 *
 * `signed` takes the bucket's nonce (or fetches one with newNonce when there is none: a fresh or
 * resumed run), and writes the next nonce back into the bucket: the answer's `Replay-Nonce` on
 * success, the one a problem document came with on failure (any other failure leaves none, so the
 * next call starts with a fresh nonce). The directory it signs against comes from the state, or is
 * fetched once and kept in the state for every later stage.
 *
 * The state a stage works on lives in a `Ref` ({@link Working}) that the runner keeps for a whole
 * run and reads after a failure too, so a failed stage leaves its nonce and directory behind for
 * the next attempt. The Ref also carries what cannot go into a checkpoint: the chain `download`
 * parsed, which `store` uses instead of parsing it again; the CSR `csr` made, which `finalize` and
 * `download` use instead of parsing its PEM again; and the imported account key, so that a run
 * imports it once instead of in every signed stage.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import type { AccountRef } from "../Account.js"
import * as AccountKey from "../AccountKey.js"
import type { CertificateError, CsrError, ProtocolError } from "../AcmeError.js"
import { AcmeProtocol } from "../AcmeProtocol.js"
import * as Certificate from "../Certificate.js"
import * as Csr from "../Csr.js"
import type { Directory } from "../Directory.js"
import type { Nonce, Signed } from "../Nonce.js"
import type { RenewalSettings } from "../RenewalSettings.js"
import type { Bucket, State } from "../RenewalState.js"
import type { Storage, StorageError } from "../Storage.js"
import { accountUrlOf, currentBucket, type PipelineError, storedAccountPem, updateCurrent } from "./context.js"
import { nonceOf } from "./failure.js"

/**
 * The state of a run as its stages change it, with what goes along with it in memory only.
 *
 * @since 0.1.0
 * @category models
 */
export interface Working {
  readonly state: State
  /** the chain `download` parsed, for `store`; never checkpointed (a resumed run parses it again) */
  readonly chain: Certificate.Chain | undefined
  /** the CSR `csr` made, for `finalize` and `download`; never checkpointed (its PEM is, in the bucket) */
  readonly csr?: Csr.Csr | undefined
  /**
   * the account key as imported from the stored PEM it was imported from: a `CryptoKey` in this
   * process's memory only, never in the state, a checkpoint, a log or a span
   */
  readonly accountKey?: { readonly pem: string; readonly key: AccountKey.AccountKey } | undefined
}

/**
 * What a stage body gets.
 *
 * @since 0.1.0
 * @category models
 */
export interface Step {
  /** the state as the stage found it */
  readonly state: State
  /** the current certificate's bucket, as the stage found it */
  readonly bucket: Bucket
  /** the directory: from the state, else fetched and kept in the state */
  readonly directory: Effect.Effect<Directory, ProtocolError, AcmeProtocol>
  /** makes sure the bucket holds a nonce for its next signed call: newNonce when it holds none */
  readonly nonce: Effect.Effect<Nonce, ProtocolError, AcmeProtocol>
  /** one signed call, with the bucket's nonce in and the next nonce back into the bucket */
  readonly signed: <A, E extends ProtocolError, R>(
    call: (nonce: Nonce, directory: Directory) => Effect.Effect<Signed<A>, E, R>
  ) => Effect.Effect<A, E | ProtocolError, R | AcmeProtocol>
  /** applies changes to the bucket now: they stay when the rest of the stage fails */
  readonly keep: (changes: Changes) => Effect.Effect<void>
  /** keeps a parsed chain for a later stage of this run */
  readonly keepChain: (chain: Certificate.Chain) => Effect.Effect<void>
  /** the chain of this PEM text: the one kept earlier in the run, else parsed now */
  readonly chainOf: (pem: string) => Effect.Effect<Certificate.Chain, CertificateError>
  /** keeps a CSR made now for a later stage of this run */
  readonly keepCsr: (csr: Csr.Csr) => Effect.Effect<void>
  /** the CSR of this PEM text: the one kept earlier in the run, else parsed now */
  readonly csrOf: (pem: string) => Effect.Effect<Csr.Csr, CsrError>
  /**
   * the account to sign with: its key read from storage now (so a key rolled over meanwhile is the
   * one used), imported once per run and again only when the stored key changed
   */
  readonly account: Effect.Effect<AccountRef, PipelineError | StorageError | ProtocolError, Storage | RenewalSettings>
}

/**
 * What a stage body returns: the changes to its bucket (the nonce is `signed`'s business).
 *
 * @since 0.1.0
 * @category models
 */
export type Changes = Partial<Omit<Bucket, "name" | "nonce">>

/**
 * A stage: a function from the state record to the next one, and the same on a {@link Working}
 * Ref that the caller keeps (it then holds what the stage left, also when the stage failed).
 *
 * @since 0.1.0
 * @category models
 */
export interface Stage<E, R> {
  (state: State): Effect.Effect<State, E, R>
  readonly runOn: (working: Ref.Ref<Working>) => Effect.Effect<void, E, R>
}

const setNonce = (working: Ref.Ref<Working>, nonce: Nonce | undefined): Effect.Effect<void> =>
  Ref.update(working, (w) => ({ ...w, state: updateCurrent(w.state, (bucket) => ({ ...bucket, nonce })) }))

const directoryOn = (working: Ref.Ref<Working>): Effect.Effect<Directory, ProtocolError, AcmeProtocol> =>
  Effect.flatMap(Ref.get(working), ({ state }) =>
    state.directory !== undefined
      ? Effect.succeed(state.directory)
      : AcmeProtocol.pipe(
        Effect.flatMap((acme) => acme.directory),
        Effect.tap((directory) => Ref.update(working, (w) => ({ ...w, state: { ...w.state, directory } })))
      ))

const nonceOn = (working: Ref.Ref<Working>): Effect.Effect<Nonce, ProtocolError, AcmeProtocol> =>
  Effect.flatMap(Ref.get(working), ({ state }) => {
    const held = currentBucket(state).nonce
    return held !== undefined ? Effect.succeed(held) : directoryOn(working).pipe(
      Effect.flatMap((directory) => Effect.flatMap(AcmeProtocol, (acme) => acme.newNonce(directory))),
      Effect.tap((nonce) => setNonce(working, nonce))
    )
  })

/**
 * The combinator every signed call of a stage goes through (see the module's description).
 *
 * @since 0.1.0
 * @category combinators
 */
export const signed = (working: Ref.Ref<Working>) =>
<A, E extends ProtocolError, R>(
  call: (nonce: Nonce, directory: Directory) => Effect.Effect<Signed<A>, E, R>
): Effect.Effect<A, E | ProtocolError, R | AcmeProtocol> =>
  Effect.gen(function*() {
    const directory = yield* directoryOn(working)
    const nonce = yield* nonceOn(working)
    // a nonce is good for one request: it leaves the bucket as it is used
    yield* setNonce(working, undefined)
    const answer = yield* call(nonce, directory).pipe(Effect.tapError((error) => setNonce(working, nonceOf(error))))
    yield* setNonce(working, answer.nonce)
    return answer.value
  })

const accountOn = (
  working: Ref.Ref<Working>
): Effect.Effect<AccountRef, PipelineError | StorageError | ProtocolError, Storage | RenewalSettings> =>
  Effect.gen(function*() {
    const { state, accountKey } = yield* Ref.get(working)
    const url = yield* accountUrlOf(state)
    const pem = yield* storedAccountPem(state)
    if (accountKey !== undefined && accountKey.pem === pem) return { key: accountKey.key, url }
    const key = yield* AccountKey.fromPem(pem)
    yield* Ref.update(working, (w) => ({ ...w, accountKey: { pem, key } }))
    return { key, url }
  })

const stepOf = (working: Ref.Ref<Working>, state: State): Step => ({
  state,
  bucket: currentBucket(state),
  directory: directoryOn(working),
  nonce: nonceOn(working),
  signed: signed(working),
  keep: (changes) => Ref.update(working, (w) => ({ ...w, state: updateCurrent(w.state, (bucket) => ({ ...bucket, ...changes })) })),
  keepChain: (chain) => Ref.update(working, (w) => ({ ...w, chain })),
  chainOf: (pem) =>
    Effect.flatMap(Ref.get(working), ({ chain }) => chain?.pem === pem ? Effect.succeed(chain) : Certificate.parseChain(pem)),
  keepCsr: (csr) => Ref.update(working, (w) => ({ ...w, csr })),
  csrOf: (pem) => Effect.flatMap(Ref.get(working), ({ csr }) => csr?.pem === pem ? Effect.succeed(csr) : Csr.fromPem(pem)),
  account: accountOn(working)
})

const asFunction = <E, R>(runOn: Stage<E, R>["runOn"]): Stage<E, R> =>
  Object.assign(
    (state: State) =>
      Effect.flatMap(
        Ref.make<Working>({ state, chain: undefined }),
        (working) => Effect.zipRight(runOn(working), Effect.map(Ref.get(working), (w) => w.state))
      ),
    { runOn }
  )

/**
 * A stage over the current certificate's bucket, from its body.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <E, R>(body: (step: Step) => Effect.Effect<Changes, E, R>): Stage<E, R> =>
  asFunction((working) =>
    Effect.gen(function*() {
      const changes = yield* body(stepOf(working, (yield* Ref.get(working)).state))
      yield* Ref.update(working, (w) => ({ ...w, state: updateCurrent(w.state, (bucket) => ({ ...bucket, ...changes })) }))
    })
  )

/**
 * A stage over the whole state (scan, plan), from a function of the state record.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromFunction = <E, R>(f: (state: State) => Effect.Effect<State, E, R>): Stage<E, R> =>
  asFunction((working) =>
    Effect.flatMap(Ref.get(working), (w) => Effect.flatMap(f(w.state), (state) => Ref.set(working, { ...w, state })))
  )
