/**
 * A benchmark Pebble (always-valid unless `--validating`) behind the counting proxy, kept running
 * until Ctrl-C, for profiling by hand: prints a line of JSON with the directory URL, the CA file and
 * the http-01 port, then each request's time and endpoint on stderr.
 *
 *   pnpm --filter @acme/bench serve   # then e.g. node --cpu-prof apps/cli/dist/acme.mjs renew --config ...
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect } from "effect"
import { pebbleBehindProxy } from "./compare.js"

process.env["BENCH_PROXY_TRACE"] = "1"
NodeRuntime.runMain(Effect.scoped(Effect.gen(function*() {
  const { target } = yield* pebbleBehindProxy(!process.argv.includes("--validating"))
  yield* Console.log(JSON.stringify(target))
  return yield* Effect.never
})))
