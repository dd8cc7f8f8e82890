/**
 * Slows down guessing: after `free` failed authentications from one address (within `window`),
 * every further failure blocks that address for twice as long as the last, from 1 second up to
 * `maxBlock`; while blocked, every request from it, with a good key or not, is answered 429 with
 * `Retry-After`. A successful authentication forgets the address. Time comes from `Clock`.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import * as Problem from "./Problem.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** failures allowed before the first block; default 5 */
  readonly free?: number | undefined
  /** failures older than this are forgotten; default 15 minutes */
  readonly window?: Duration.DurationInput | undefined
  /** the longest block; default 5 minutes */
  readonly maxBlock?: Duration.DurationInput | undefined
  /** addresses remembered at most (the oldest are forgotten first); default 10,000 */
  readonly maxAddresses?: number | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** fails with a 429 problem while the address is blocked */
  readonly check: (address: string) => Effect.Effect<void, Problem.Problem>
  readonly failure: (address: string) => Effect.Effect<void>
  readonly success: (address: string) => Effect.Effect<void>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class AuthThrottle extends Context.Tag("@acme/server/AuthThrottle")<AuthThrottle, Service>() {}

interface Entry {
  readonly failures: number
  readonly lastFailure: number
  readonly blockedUntil: number
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<Service> =>
  Effect.map(Ref.make<ReadonlyMap<string, Entry>>(new Map()), (ref): Service => {
    const free = options.free ?? 5
    const window = Duration.toMillis(options.window ?? "15 minutes")
    const maxBlock = Duration.toMillis(options.maxBlock ?? "5 minutes")
    const maxAddresses = options.maxAddresses ?? 10_000
    return {
      check: (address) =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          const entry = (yield* Ref.get(ref)).get(address)
          if (entry !== undefined && entry.blockedUntil > now) {
            const seconds = Math.ceil((entry.blockedUntil - now) / 1000)
            return yield* Problem.make(
              429,
              `too many failed authentications from ${address}; try again in ${seconds} s`,
              seconds
            )
          }
        }),
      failure: (address) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Ref.update(ref, (entries) => {
            const previous = entries.get(address)
            const failures = previous === undefined || now - previous.lastFailure > window ? 1 : previous.failures + 1
            const over = failures - free
            const blockedUntil = over > 0 ? now + Math.min(1000 * 2 ** (over - 1), maxBlock) : 0
            const next = new Map(entries)
            next.delete(address)
            next.set(address, { failures, lastFailure: now, blockedUntil })
            // a Map iterates in insertion order: the first keys are the least recently failed
            for (const key of next.keys()) {
              if (next.size <= maxAddresses) break
              next.delete(key)
            }
            return next
          })),
      success: (address) =>
        Ref.update(ref, (entries) => {
          if (!entries.has(address)) return entries
          const next = new Map(entries)
          next.delete(address)
          return next
        })
    }
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<AuthThrottle> => Layer.effect(AuthThrottle, make(options))
