/**
 * The file system storage's lock: one file, `<root>/leases/.lock`, that a process holds for the
 * milliseconds of a lease operation or a fenced write ("check the token, then write"), so that the
 * processes of one host sharing the folder take turns.
 *
 * The lock file is published complete, in one step: its content (host, pid, a random id, the time)
 * is written to a temp file that is then hard-linked to `.lock`, which fails when the lock exists.
 * A lock that exists is left alone while its holder is alive. It is broken (moved aside, checked,
 * removed) when its holder is a process of this host that is gone, this very process (a pid reused
 * after a crash: this process's own fibers take turns on a semaphore before they take the file), a
 * process of another host after `staleOtherHost` (file locks do not hold across hosts anyway), or
 * when its content is unreadable. A lock that is gone when its content is read was let go: the next
 * try comes, and nothing is moved aside (another process may have taken it meanwhile). A live holder's lock is never broken, not even after a long time: a
 * process that was stopped while it held the lock has checked a token and may be about to write, so
 * the others wait for it (up to `Waits.defaultStorageLockTimeout`, then a `StorageError` naming it).
 */
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Host from "../../Host.js"
import { StorageError } from "../../StorageError.js"
import * as Waits from "../../Waits.js"
import { isNotFound, storageError } from "./errors.js"
import { type Files, publicMode, randomSuffix } from "./files.js"

/** a lock of another host older than this is stale: file locks hold on one host only */
const staleOtherHost = Duration.minutes(1)

const LockOwner = Schema.parseJson(Schema.Struct({
  host: Schema.String,
  pid: Schema.Int,
  id: Schema.String,
  at: Schema.String
}))

type LockOwner = typeof LockOwner.Type

/** the lock is held by a live process: try again later */
class Busy {
  readonly _tag = "Busy"
  constructor(readonly owner: Option.Option<LockOwner>) {}
}

const isAlreadyExists = (error: { readonly _tag: string; readonly reason?: string }) =>
  error._tag === "SystemError" && error.reason === "AlreadyExists"

/** @internal */
export interface Lock {
  /** runs `effect` while this process holds the lock */
  readonly exclusive: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | StorageError, R>
}

/** @internal */
export const makeLock = (files: Files, file: string, timeout: Duration.DurationInput = Waits.defaultStorageLockTimeout) =>
  Effect.gen(function*() {
    const { fs, path } = files
    const directory = path.dirname(file)
    const turns = yield* Effect.makeSemaphore(1)

    /** creates the lock file with `owner` in it, or fails with AlreadyExists */
    const publish = (owner: LockOwner) =>
      Effect.gen(function*() {
        const temp = path.join(directory, `.${path.basename(file)}.tmp-${randomSuffix()}`)
        const text = yield* Effect.orDie(Schema.encode(LockOwner)(owner))
        yield* Effect.scoped(
          Effect.flatMap(
            files.inKnownDirectory(directory, fs.open(temp, { flag: "wx", mode: publicMode })),
            (handle) => handle.writeAll(new TextEncoder().encode(text))
          )
        ).pipe(
          Effect.zipRight(fs.link(temp, file)),
          Effect.ensuring(Effect.ignore(fs.remove(temp)))
        )
      })

    /** whether the lock `owner` (None: unreadable) may be broken */
    const isStale = (owner: Option.Option<LockOwner>) =>
      Effect.gen(function*() {
        if (Option.isNone(owner)) return true
        const host = yield* Host.Host
        if (owner.value.host === host.name) {
          return owner.value.pid === host.pid || (yield* Host.isGone({ ...owner.value, runId: "" }))
        }
        const since = DateTime.make(owner.value.at)
        const now = yield* DateTime.now
        return Option.isNone(since) || DateTime.distance(since.value, now) > Duration.toMillis(staleOtherHost)
      })

    const readOwner = (at: string) =>
      Effect.map(files.readText(at), Option.flatMap((text) => Schema.decodeOption(LockOwner)(text)))

    /** moves a stale lock aside and removes it; puts it back if it changed hands meanwhile */
    const breakLock = (seen: Option.Option<LockOwner>) =>
      Effect.gen(function*() {
        const aside = path.join(directory, `.${path.basename(file)}.stale-${randomSuffix()}`)
        const moved = yield* fs.rename(file, aside).pipe(
          Effect.as(true),
          // gone already: another process broke it, or its holder let go
          Effect.catchIf(isNotFound, () => Effect.succeed(false)),
          Effect.mapError(storageError(file))
        )
        if (!moved) return
        const content = yield* readOwner(aside)
        if (Option.getEquivalence((a: LockOwner, b: LockOwner) => a.id === b.id)(content, seen)) {
          yield* Effect.logWarning(
            `removed the storage lock ${file} of ${
              Option.match(seen, { onNone: () => "no readable holder", onSome: (o) => `pid ${o.pid} on ${o.host}` })
            }, which is gone`
          )
        } else {
          // another process took the lock between our look and the move: give it back
          yield* Effect.ignore(fs.link(aside, file))
        }
        yield* Effect.ignore(fs.remove(aside))
      })

    const tryAcquire = (owner: LockOwner): Effect.Effect<void, Busy | StorageError> =>
      publish(owner).pipe(
        Effect.catchAll((error) =>
          isAlreadyExists(error)
            ? Effect.gen(function*() {
              const text = yield* files.readText(file)
              // let go between the try and the look: try again. Not a lock to break: another process
              // may take it before this one moves it aside, and would lose it
              if (Option.isNone(text)) return yield* Effect.fail(new Busy(Option.none()))
              const seen = Schema.decodeOption(LockOwner)(text.value)
              if (!(yield* isStale(seen))) return yield* Effect.fail(new Busy(seen))
              yield* breakLock(seen)
              // broken: the next try comes at once, from the retry schedule
              return yield* Effect.fail(new Busy(Option.none()))
            })
            : Effect.fail(storageError(file)(error))
        )
      )

    const busyError = (busy: Busy) =>
      new StorageError({
        reason: "Io",
        path: file,
        description: `the storage is locked by ${
          Option.match(busy.owner, {
            onNone: () => "another process",
            onSome: (o) => `pid ${o.pid} on ${o.host} since ${o.at}`
          })
        } and was not let go within ${Duration.format(Duration.decode(timeout))}; if that process is stopped, continue or end it`
      })

    const acquire = Effect.gen(function*() {
      const host = yield* Host.Host
      const owner: LockOwner = {
        host: host.name,
        pid: host.pid,
        id: randomSuffix(),
        at: DateTime.formatIso(yield* DateTime.now)
      }
      yield* files.ensureDirectory(directory)
      yield* tryAcquire(owner).pipe(
        Effect.retry({ schedule: Waits.storageLock(timeout), while: (error) => error instanceof Busy }),
        Effect.catchIf((error): error is Busy => error instanceof Busy, (busy) => Effect.fail(busyError(busy)))
      )
      return owner
    })

    /** removes the lock if it is still this one */
    const release = (owner: LockOwner) =>
      Effect.gen(function*() {
        const current = yield* Effect.orElseSucceed(readOwner(file), () => Option.none<LockOwner>())
        if (Option.exists(current, (o) => o.id === owner.id)) yield* Effect.ignore(fs.remove(file))
      })

    const lock: Lock = {
      exclusive: (effect) => turns.withPermits(1)(Effect.acquireUseRelease(acquire, () => effect, release))
    }
    return lock
  })
