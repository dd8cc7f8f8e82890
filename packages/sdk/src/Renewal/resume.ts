/**
 * Which run a `renew` is: an interrupted run of the same CA that it takes over, or a new one. A run
 * holds a lease on itself (`Lease.runKey`) from its start to its end, kept alive like a
 * certificate's, so that a process never resumes a run that is still going on elsewhere:
 *
 * - the checkpoints are looked at newest first; a finished one (or one of another CA) means there
 *   is nothing to resume, as before;
 * - an unfinished one is resumed only when its run's lease can be had: the run ended, or its lease
 *   expired, or its holder is a process of this host that is gone. A run whose lease is held, or
 *   whose holder is a live process of this host (one that was stopped past its lease's expiry), is
 *   passed over (it is someone else's), and the next older checkpoint is looked at;
 * - the process that gets the lease takes the checkpoint over from its previous owner in one step
 *   (`saveRunCheckpoint` with `replaces`): of two processes that find the same interrupted run,
 *   one resumes it and the other starts a new run. Two runs never share a run record.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Host from "../Host.js"
import { type Lease, LeaseError, runKey } from "../Lease.js"
import type { RenewalSettings } from "../RenewalSettings.js"
import * as RenewalState from "../RenewalState.js"
import { Storage, type StorageError } from "../Storage.js"
import * as EarlierRuns from "./earlierRuns.js"
import { acquire, keepingAlive, leaseTtl } from "./lease.js"

/** holds `lease` until the scope closes: renewed in the background, released at the end */
const holdInScope = (lease: Lease): Effect.Effect<void, never, Storage | RenewalSettings | Scope.Scope> =>
  Effect.gen(function*() {
    const storage = yield* Storage
    yield* Effect.addFinalizer(() => Effect.ignore(storage.releaseLease(lease)))
    // a lost run lease is only logged: the run's next checkpoint is refused (RunOwned) when another
    // process took the run over, and its certificates are fenced by their own leases
    yield* keepingAlive(lease, yield* leaseTtl, Effect.never).pipe(
      Effect.catchAll((error) => Effect.logWarning(`this run's own lease: ${error.message}`)),
      // stopped when the scope closes, also where the scope was opened with interruption off
      Effect.interruptible,
      Effect.forkScoped
    )
  })

/**
 * Claims the run to go on with (among `listed`, the checkpoints as the storage lists them, when the
 * caller has them already): an interrupted run of `directoryUrl` (see the module), or the new
 * run `freshRunId` when there is none. The run's lease is held until the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const claim = (
  directoryUrl: string,
  freshRunId: string,
  listed?: EarlierRuns.Listed
): Effect.Effect<Option.Option<RenewalState.State>, StorageError, Storage | RenewalSettings | Scope.Scope> =>
  Effect.gen(function*() {
    const storage = yield* Storage
    const host = yield* Host.Host
    const checkpoints = listed ?? (yield* storage.loadCheckpoints)
    // a run's lease is held in the name of the run that claims it (this one, by its new id): two
    // runs of one process that find the same interrupted run are two holders
    const claimant = yield* Host.holder(freshRunId)
    for (const entry of [...checkpoints].reverse()) {
      const { holder: owner, runId } = entry
      const state = EarlierRuns.decode(entry)
      if (Option.isNone(state)) continue
      if (state.value.phase === "done" || state.value.options.dryRun) break
      if (state.value.directoryUrl !== directoryUrl) break
      const ownerAlive = owner !== undefined && owner.host === host.name && owner.pid !== host.pid &&
        (yield* host.isAlive(owner.pid))
      if (ownerAlive) continue
      const holder = yield* Host.holder(runId)
      const got = yield* Effect.either(acquire(runKey(runId), claimant))
      if (Either.isLeft(got)) {
        const error = got.left
        if (error._tag === "LeaseError") continue // a run that is going on: not this process's to resume
        return yield* Effect.fail(error)
      }
      // the record as it is now that nobody else can take the run: another run may have resumed and
      // finished it since the listing
      const now = (yield* storage.loadCheckpoints).find((checkpoint) => checkpoint.runId === runId)
      const current = Option.flatMap(Option.fromNullable(now), (checkpoint) => RenewalState.decode(checkpoint.json))
      if (now === undefined || Option.isNone(current) || current.value.phase === "done") {
        yield* Effect.ignore(storage.releaseLease(got.right))
        break
      }
      const taken = yield* Effect.either(storage.saveRunCheckpoint({ holder, json: now.json, replaces: now.holder }))
      if (Either.isLeft(taken)) {
        yield* Effect.ignore(storage.releaseLease(got.right))
        const error = taken.left
        // another process resumed it first and still owns it: look further
        if (error instanceof LeaseError) continue
        return yield* Effect.fail(error)
      }
      yield* holdInScope(got.right)
      return current
    }
    const fresh = yield* acquire(runKey(freshRunId), claimant).pipe(
      // a new run id is nobody's
      Effect.catchTag("LeaseError", (error) => Effect.dieMessage(`the lease of a new run is held: ${error.message}`))
    )
    yield* holdInScope(fresh)
    return Option.none()
  })
