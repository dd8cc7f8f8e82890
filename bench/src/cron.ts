/**
 * The cron rows of the comparison (issue 14), against the always-valid Pebble behind the counting
 * proxy, for every client that runs as a process (our CLI, lego, certbot, acme-client):
 *
 * - one new certificate per process: the same sequential issuances as the validating comparison,
 *   without the wait for validation, so what is left is start-up and the client's own work;
 * - the cron run that changes nothing: what each client's cron job runs over the certificates it
 *   just issued, none of them due (`acme renew`, `lego renew` once per certificate, `certbot renew`,
 *   a script over acme-client), and `acme status` of the same certificates.
 *
 * @since 0.1.0
 */
import { Console, Effect } from "effect"
import { type Client, ourStatus, type Target } from "./clients.js"
import * as Measure from "./measure.js"
import type * as Proxy from "./proxy.js"

/**
 * One measured cron run: the sums over its processes (lego runs one per certificate).
 *
 * @since 0.1.0
 * @category models
 */
export interface Run {
  readonly wallMs: number
  readonly cpuMs: number
  readonly maxRssKiB: number
  readonly processes: number
  readonly requests: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface NothingDue {
  readonly client: string
  readonly id: string
  readonly what: "renew" | "status"
  readonly certificates: number
  readonly command: string
  readonly runs: ReadonlyArray<Run>
}

/** Runs the commands one after the other, as cron would, and adds up what they cost. */
const runAll = (commands: ReadonlyArray<Measure.Command>, proxy: Proxy.CountingProxy) =>
  Effect.gen(function*() {
    yield* proxy.take
    const samples: Array<Measure.Sample> = []
    for (const command of commands) samples.push(yield* Measure.run(command))
    const counts = yield* proxy.take
    return {
      wallMs: samples.reduce((sum, s) => sum + s.wallMs, 0),
      cpuMs: samples.reduce((sum, s) => sum + s.cpuMs, 0),
      maxRssKiB: Math.max(...samples.map((s) => s.maxRssKiB)),
      processes: samples.length,
      requests: counts.requests
    } satisfies Run
  })

/**
 * `rounds` cron runs over `names` (after one unmeasured run), each of them stored and not due.
 *
 * @since 0.1.0
 * @category running
 */
export const nothingDue = (
  options: {
    readonly client: Client
    readonly target: Target
    readonly proxy: Proxy.CountingProxy
    readonly workdir: string
    readonly names: ReadonlyArray<string>
    readonly rounds: number
    readonly describe: (command: Measure.Command) => string
  }
) =>
  Effect.gen(function*() {
    const { client, names, proxy, target, workdir } = options
    const measure = (what: NothingDue["what"], commands: ReadonlyArray<Measure.Command>, label: string) =>
      Effect.gen(function*() {
        yield* runAll(commands, proxy)
        const runs: Array<Run> = []
        for (let i = 0; i < options.rounds; i++) runs.push(yield* runAll(commands, proxy))
        yield* Console.log(
          `${label} ${what}, nothing due of ${names.length}: median ${Measure.median(runs.map((r) => r.wallMs)).toFixed(0)} ms, ` +
            `CPU ${Measure.median(runs.map((r) => r.cpuMs)).toFixed(0)} ms`
        )
        const first = commands[0]
        return {
          client: label,
          id: client.id,
          what,
          certificates: names.length,
          command: `${first === undefined ? "" : options.describe(first).split(workdir).join("<workdir>")}${
            commands.length > 1 ? ` (and the same for each of the ${commands.length} certificates)` : ""
          }`,
          runs
        } satisfies NothingDue
      })
    const renew = yield* measure("renew", client.renewAll(target, workdir, names), client.label)
    if (client.id !== "acme-cli") return [renew]
    const status = yield* measure("status", [ourStatus(target, workdir, names)], client.label)
    return [renew, status]
  })
