/**
 * The checkpoints of earlier runs, listed once per run: the run's start lists them to find a run to
 * resume (`resume.ts`), and the same list is what scan (what the CA's directory looked like,
 * `directorySeen`) and plan (each certificate's last error) look back at, instead of reading every
 * checkpoint again in each. A stage run without that list (`acme status`, a dry run, a stage on its
 * own) reads the checkpoints itself.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { LeaseHolder } from "../Lease.js"
import * as RenewalState from "../RenewalState.js"
import type { State } from "../RenewalState.js"
import { Storage } from "../Storage.js"
import type { StorageError } from "../StorageError.js"

/**
 * The checkpoints as a store lists them, oldest first.
 *
 * @since 0.1.0
 * @category models
 */
export type Listed = ReadonlyArray<{ readonly runId: string; readonly json: string; readonly holder?: LeaseHolder }>

/**
 * The checkpoints the run's start listed.
 *
 * @since 0.1.0
 * @category services
 */
export class EarlierRuns extends Context.Tag("@acme/sdk/Renewal/EarlierRuns")<EarlierRuns, Listed>() {}

/** decoded checkpoints by the listed entry they came from: held no longer than the list itself */
const decodedByEntry = new WeakMap<Listed[number], Option.Option<State>>()

/**
 * A listed checkpoint's state, decoded once per list: the run's start, scan and plan all look at
 * the newest ones, which can be large (a state record holds every certificate of its run).
 *
 * @since 0.1.0
 * @category accessors
 */
export const decode = (entry: Listed[number]): Option.Option<State> => {
  const known = decodedByEntry.get(entry)
  if (known !== undefined) return known
  const decoded = RenewalState.decode(entry.json)
  decodedByEntry.set(entry, decoded)
  return decoded
}

/**
 * The states of the other runs of `state`'s CA, newest first; each checkpoint is decoded when it is
 * reached, and an unreadable one is passed over.
 *
 * @since 0.1.0
 * @category accessors
 */
export const ofThisCa = (state: State): Effect.Effect<Iterable<State>, StorageError, Storage> =>
  Effect.map(
    Effect.flatMap(
      Effect.serviceOption(EarlierRuns),
      Option.match({ onSome: Effect.succeed, onNone: () => Effect.flatMap(Storage, (storage) => storage.loadCheckpoints) })
    ),
    (listed) => ({
      *[Symbol.iterator]() {
        for (let i = listed.length - 1; i >= 0; i--) {
          const entry = listed[i]
          if (entry === undefined || entry.runId === state.runId) continue
          const previous = decode(entry)
          if (Option.isSome(previous) && previous.value.directoryUrl === state.directoryUrl) yield previous.value
        }
      }
    })
  )
