/**
 * report: the run's summary, from the Reporter. Marks the run done. No network.
 *
 * Before the Reporter sees it, each result gets what the report shows besides the plan: the days
 * left of the certificate in place, the files of one that was not renewed, and the deploy hook a
 * certificate not due still owes (a dry run, or a run that did not get to it).
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { Bucket, Result, State } from "../RenewalState.js"
import { Reporter, type RunReport } from "../Reporter.js"
import { Storage } from "../Storage.js"

const completed = (bucket: Bucket, result: Result, now: DateTime.Utc, storage: Storage["Type"]): Result => {
  const daysLeft = Option.getOrUndefined(
    Option.map(
      Option.flatMap(Option.fromNullable(result.notAfter), DateTime.make),
      (at) => Math.floor(DateTime.distance(now, at) / 86_400_000)
    )
  )
  // a certificate in place that this run left alone (not the ones --only left out)
  const inPlace = result.action !== "renewed" && bucket.decision !== undefined && bucket.current !== undefined
  const files = inPlace && result.paths === undefined ? storage.certificatePaths(bucket.name) : undefined
  const owed = bucket.current?.pendingDeploy
  return {
    ...result,
    daysLeft: result.daysLeft ?? daysLeft,
    paths: result.paths ??
      (files !== undefined
        ? { cert: files.cert, chain: files.chain, fullchain: files.fullchain, privkey: files.privkey }
        : undefined),
    deploy: result.deploy ?? (inPlace && owed !== undefined ? { status: "pending", ...owed } : undefined)
  }
}

/**
 * @since 0.1.0
 * @category stages
 */
export const report = (state: State): Effect.Effect<[RunReport, State], never, Reporter | Storage> =>
  Effect.gen(function*() {
    const reporter = yield* Reporter
    const storage = yield* Storage
    const now = yield* DateTime.now
    const done: State = {
      ...state,
      phase: "done",
      current: undefined,
      buckets: state.buckets.map((bucket) =>
        bucket.result === undefined ? bucket : { ...bucket, result: completed(bucket, bucket.result, now, storage) }
      )
    }
    return [yield* reporter.summarize(done), done]
  })
