/**
 * The schedule: a renewal of every certificate that is due, queued as a task once at start and then
 * every `server.interval` (12 hours by default), each wait drawn between 80 % and 120 % of it so
 * that a fleet started together does not ask the CA at the same moment. A reload that changes the
 * interval starts the schedule again with the new one.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { Current } from "./Environment.js"
import { Tasks } from "./Tasks.js"

/**
 * The waits between runs: `interval` × U(0.8, 1.2).
 *
 * @since 0.1.0
 * @category schedules
 */
export const schedule = (interval: Duration.Duration): Schedule.Schedule<number> =>
  Schedule.spaced(interval).pipe(Schedule.jittered)

/** queues the run; a run queued or going on already is enough */
const submit = Effect.flatMap(Tasks, (tasks) =>
  tasks.submit({ action: "renew", requestedBy: "scheduler" }).pipe(
    Effect.tap((task) => Effect.logInfo(`scheduled renewal queued as task ${task.id}`)),
    Effect.catchTag("Problem", (problem) => Effect.logDebug(`scheduled renewal not queued: ${problem.detail}`)),
    Effect.catchTag("StorageError", (error) => Effect.logError(`scheduled renewal not queued: ${error.message}`))
  ))

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<never, never, Current | Tasks> = Layer.scopedDiscard(
  Effect.gen(function*() {
    const current = yield* Current
    yield* current.changes.changes.pipe(
      Stream.map((active) => Duration.decode(active.server.interval)),
      Stream.changesWith((a, b) => Duration.equals(a, b)),
      Stream.flatMap((interval) => Stream.fromEffect(Effect.repeat(submit, schedule(interval))), { switch: true }),
      Stream.runDrain,
      Effect.forkScoped
    )
  })
)
