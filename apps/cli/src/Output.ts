/**
 * What the `acme` command prints, and where:
 *
 * - **stdout** holds the result only: with `--json` exactly one JSON document, otherwise a summary
 *   for people (one line per certificate).
 * - **stderr** holds everything else: progress, log lines, and the one-line `acme: ...` of a failure.
 *   On a terminal progress is one line that updates in place (`web: order…`); in a pipe or a log
 *   file it is plain timestamped lines (`2026-11-23T14:00:00Z web: stage order started`).
 *
 * @since 0.1.0
 */
import type { Accounts, Reporter, Status } from "@acme/sdk"
import { Renewal } from "@acme/sdk"
import { Cause, Context, DateTime, Effect, FiberRef, FiberRefs, Inspectable, Layer, Logger, LogLevel, Option } from "effect"

// -- where the text goes: one service for stdout and stderr ----------------------------------------

/**
 * A stream the command writes to: what `process.stdout` and `process.stderr` have, and all a test
 * double needs.
 *
 * @since 0.1.0
 * @category models
 */
export interface Stream {
  readonly isTTY?: boolean | undefined
  readonly columns?: number | undefined
  readonly write: (text: string, callback?: (error?: Error | null) => void) => unknown
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** writes to stdout; a closed stdout (`acme status | head -1`) is not an error */
  readonly stdout: (text: string) => void
  /** whether stderr is a terminal (a status line that updates in place) or a pipe (timestamped lines) */
  readonly isTTY: boolean
  /** a permanent line on stderr (the status line, if any, is redrawn below it) */
  readonly line: (text: string) => void
  /** sets (or, with undefined, clears) the line on stderr that updates in place; a no-op off a terminal */
  readonly status: (text: string | undefined) => void
}

/**
 * Builds the service over two streams. The status line shown on stderr is its state.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (streams: { readonly stdout: Stream; readonly stderr: Stream }): Service => {
  const { stderr } = streams
  const isTTY = stderr.isTTY === true
  let current: string | undefined = undefined
  const fit = (text: string) => {
    const width = stderr.columns !== undefined && stderr.columns > 0 ? stderr.columns : 80
    return text.length >= width ? `${text.slice(0, Math.max(0, width - 2))}…` : text
  }
  const clear = () => {
    if (current !== undefined) stderr.write("\r\u001b[2K")
  }
  return {
    stdout: (text) => {
      // the error (EPIPE) reaches the callback: ignored, the reader is gone
      streams.stdout.write(text, () => {})
    },
    isTTY,
    line: (text) => {
      if (!isTTY) {
        stderr.write(`${text}\n`)
        return
      }
      clear()
      stderr.write(`${text}\n`)
      if (current !== undefined) stderr.write(fit(current))
    },
    status: (text) => {
      if (!isTTY) return
      clear()
      current = text
      if (text !== undefined) stderr.write(fit(text))
    }
  }
}

/**
 * Where everything `acme` prints goes: by default the process's stdout and stderr; a test provides
 * its own (`Effect.provideService(Output.Output, Output.make({ stdout, stderr }))`).
 *
 * @since 0.1.0
 * @category tags
 */
export class Output extends Context.Reference<Output>()("@acme/cli/Output", {
  defaultValue: (): Service => make({ stdout: process.stdout, stderr: process.stderr })
}) {}

const withOutput = (f: (output: Service) => void): Effect.Effect<void> =>
  Effect.flatMap(Output, (output) => Effect.sync(() => f(output)))

/**
 * Writes one line to stderr (above the status line on a terminal).
 *
 * @since 0.1.0
 * @category stderr
 */
export const errorLine = (text: string): Effect.Effect<void> => withOutput((output) => output.line(text))

/** `2026-11-23T14:00:00Z`: ISO 8601 in UTC, to the second. */
const timestamp = (time: DateTime.DateTime): string => DateTime.formatIso(time).replace(/\.\d+Z$/, "Z")

const text = (message: unknown): string => {
  const parts = Array.isArray(message) ? message : [message]
  return parts.map((part) => typeof part === "string" ? part : Inspectable.toStringUnknown(part, 0)).join(" ")
    .replace(/\s*\n\s*/g, " ")
}

const levelLabel = (level: LogLevel.LogLevel): string =>
  level._tag === "Info" ? "" : level._tag === "Warning" ? "warning: " : `${level.label.toLowerCase()}: `

/**
 * Effect's log lines on stderr: `warning: ...` on a terminal, `2026-11-23T14:00:00Z warning: ...`
 * elsewhere. A cause is summed up in one line, never a stack trace.
 *
 * @since 0.1.0
 * @category logging
 */
export const logger: Logger.Logger<unknown, void> = Logger.make(({ cause, context, date, logLevel, message }) => {
  // a logger is synchronous: the service comes from the logging fiber's context
  const output = Context.get(FiberRefs.getOrDefault(context, FiberRef.currentContext), Output)
  const squashed: unknown = Cause.isEmpty(cause) ? undefined : Cause.squash(cause)
  const failure = squashed === undefined ? "" : ` (${squashed instanceof Error ? text(squashed.message) : text(squashed)})`
  const body = `${levelLabel(logLevel)}${text(message)}${failure}`
  output.line(output.isTTY ? body : `${timestamp(DateTime.unsafeMake(date))} ${body}`)
})

/**
 * Replaces Effect's default logger (which writes to stdout) with {@link logger}.
 *
 * @since 0.1.0
 * @category logging
 */
export const loggerLayer: Layer.Layer<never> = Logger.replace(Logger.defaultLogger, logger)

/**
 * Shows debug log lines too when `verbose`.
 *
 * @since 0.1.0
 * @category logging
 */
export const withVerbosity = (verbose: boolean) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  verbose ? Logger.withMinimumLogLevel(self, LogLevel.Debug) : self

// -- progress ------------------------------------------------------------------------------------

const seconds = (millis: number): string =>
  millis < 1000
    ? `${Math.round(millis)} ms`
    : millis < 120_000
    ? `${Math.round(millis / 1000)} s`
    : `${Math.round(millis / 60_000)} min`

const subject = (certificate: string) => certificate === "*" ? "run" : certificate

/**
 * The progress of a run as a status line (terminal) or as timestamped lines (pipe).
 *
 * @since 0.1.0
 * @category progress
 */
export const progress: Context.Tag.Service<typeof Renewal.Progress> = {
  emit: (event: Renewal.ProgressEvent) =>
    Effect.flatMap(DateTime.now, (now) =>
      withOutput((stderr) => {
        const at = timestamp(now)
        switch (event._tag) {
          case "RunStarted": {
            if (stderr.isTTY) stderr.status("starting…")
            // a resumed run is announced by the pipeline's own log line ("resuming run ..., which was interrupted")
            else stderr.line(`${at} run ${event.runId} started`)
            return
          }
          case "StageStarted": {
            if (stderr.isTTY) stderr.status(`${subject(event.certificate)}: ${event.stage}…`)
            else stderr.line(`${at} ${subject(event.certificate)}: stage ${event.stage} started`)
            return
          }
          case "StageFinished": {
            if (!stderr.isTTY) stderr.line(`${at} ${subject(event.certificate)}: stage ${event.stage} finished`)
            return
          }
          case "Retrying": {
            // the pipeline logs a warning with the error; here only the status line changes
            stderr.status(
              `${subject(event.certificate)}: waiting ${seconds(event.waitMillis)} before attempt ${event.attempt} (${event.stage})…`
            )
            return
          }
          case "CertificateFinished": {
            if (!stderr.isTTY) stderr.line(`${at} ${event.certificate}: ${event.action}: ${text(event.reason)}`)
            return
          }
        }
      }))
}

/**
 * Provides {@link progress} as the pipeline's `Renewal.Progress`; the status line is cleared when
 * the layer's scope closes.
 *
 * @since 0.1.0
 * @category progress
 */
export const progressLayer: Layer.Layer<never> = Layer.scopedDiscard(
  Effect.acquireRelease(Effect.void, () => withOutput((output) => output.status(undefined)))
).pipe(Layer.merge(Layer.succeed(Renewal.Progress, progress)))

/**
 * Shows a status line while `self` runs (on a terminal), cleared afterwards.
 *
 * @since 0.1.0
 * @category progress
 */
export const withStatus = (status: string) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.acquireUseRelease(
    withOutput((output) => output.status(status)),
    () => self,
    () => withOutput((output) => output.status(undefined))
  )

// -- stdout ----------------------------------------------------------------------------------------

/**
 * Writes text to stdout. A closed stdout (`acme status | head -1`) is not an error.
 *
 * @since 0.1.0
 * @category stdout
 */
export const stdout = (content: string): Effect.Effect<void> => withOutput((output) => output.stdout(content))

/**
 * Exactly one JSON document on stdout.
 *
 * @since 0.1.0
 * @category stdout
 */
export const json = (value: unknown): Effect.Effect<void> =>
  stdout(`${JSON.stringify(value, null, 2)}\n`)

/**
 * Lines on stdout.
 *
 * @since 0.1.0
 * @category stdout
 */
export const lines = (content: ReadonlyArray<string>): Effect.Effect<void> =>
  content.length === 0 ? Effect.void : stdout(`${content.join("\n")}\n`)

// -- summaries for people --------------------------------------------------------------------------

/** `2027-02-21 14:00 UTC` */
const humanTime = (iso: string): string =>
  Option.match(DateTime.make(iso), {
    onNone: () => iso,
    onSome: (time) => DateTime.formatIso(time).replace(/:\d\d(\.\d+)?Z$/, " UTC").replace("T", " ")
  })

const daysUntil = (now: DateTime.Utc, iso: string): Option.Option<number> =>
  Option.map(DateTime.make(iso), (at) => Math.floor(DateTime.distance(now, at) / 86_400_000))

const inDays = (days: number): string =>
  days < 0 ? `expired ${-days} day${days === -1 ? "" : "s"} ago` : `${days} day${days === 1 ? "" : "s"} left`

const pad = (value: string, width: number): string => value.padEnd(width)

const names = (list: ReadonlyArray<string>): string => list.join(", ")

/**
 * What an advisory (LLM) planner did, in one line; undefined for the deterministic planner, whose
 * plan is the one every line above already shows.
 *
 * @since 0.1.0
 * @category summaries
 */
export const plannerLine = (planner: Reporter.RunReport["planner"]): string | undefined => {
  if (planner === undefined || planner.provider === "deterministic") return undefined
  const who = `${planner.provider}${planner.model !== undefined ? ` (${planner.model})` : ""}`
  if (planner.fallback) {
    return `planner  ${who}: not used (${planner.fallbackReason ?? "no usable answer"}); the deterministic plan was followed`
  }
  const notes = [
    planner.dropped.length > 0 ? `dropped ${names(planner.dropped)} (not configured)` : undefined,
    planner.restored.length > 0 ? `restored ${names(planner.restored)} (left out of its answer)` : undefined,
    planner.disagreements.length > 0
      ? `ignored its ${
        planner.disagreements.map((d) => `${d.advised} for ${d.name}`).join(", ")
      } (the deterministic decision was kept)`
      : undefined
  ].filter((note) => note !== undefined)
  return `planner  ${who}: advice taken (order and notes)${notes.length > 0 ? `; ${notes.join("; ")}` : ""}`
}

/**
 * The report of `renew` or `revoke` as one line per certificate, then a count, the planner's line
 * (an LLM planner only) and the prose summary (an LLM reporter only).
 *
 * @since 0.1.0
 * @category summaries
 */
export const reportLines = (report: Reporter.RunReport, now: DateTime.Utc): Array<string> => {
  const nameWidth = Math.max(4, ...report.certificates.map((c) => c.name.length))
  const out = report.certificates.map((certificate) => {
    const parts = [certificate.reason]
    if (certificate.serial !== undefined) parts.push(`serial ${certificate.serial}`)
    if (certificate.notAfter !== undefined) {
      const days = daysUntil(now, certificate.notAfter)
      parts.push(
        `expires ${humanTime(certificate.notAfter)}${Option.match(days, { onNone: () => "", onSome: (d) => ` (${inDays(d)})` })}`
      )
    }
    if (certificate.action === "renewed" && certificate.paths !== undefined) {
      parts.push(`fullchain ${certificate.paths.fullchain}, key ${certificate.paths.privkey}`)
    }
    return `${pad(certificate.action, 8)} ${pad(certificate.name, nameWidth)}  ${parts.join("; ")}`
  })
  const count = (action: string) => report.certificates.filter((c) => c.action === action).length
  const totals = report.command === "revoke"
    ? `${count("revoked")} revoked, ${count("failed")} failed`
    : `${count("renewed")} renewed, ${count("skipped")} skipped, ${count("failed")} failed`
  const notes = [
    report.dryRun ? "dry run: nothing was changed" : undefined,
    report.resumed ? `resumed run ${report.runId}` : undefined
  ].filter((note) => note !== undefined)
  out.push(`${totals}${notes.length > 0 ? ` (${notes.join("; ")})` : ""}`)
  const planner = plannerLine(report.planner)
  if (planner !== undefined) out.push(planner)
  if (report.summary !== undefined) out.push("", report.summary)
  return out
}

/**
 * `acme status` for people: a block per certificate.
 *
 * @since 0.1.0
 * @category summaries
 */
export const statusLines = (report: Status.Report): Array<string> => {
  const out = [
    `CA ${report.directoryUrl}${report.caReachable ? "" : " (not reachable now: planned by lifetime, without renewal info)"}`
  ]
  for (const certificate of report.certificates) {
    out.push("")
    out.push(`${certificate.name}  ${certificate.domains.join(", ")}`)
    if (certificate.serial === undefined || certificate.notAfter === undefined) {
      out.push(`  certificate  none yet`)
    } else {
      const days = certificate.daysLeft !== undefined ? ` (${inDays(certificate.daysLeft)})` : ""
      out.push(`  certificate  serial ${certificate.serial}, not after ${humanTime(certificate.notAfter)}${days}`)
    }
    if (certificate.revokedAt !== undefined) out.push(`  revoked      ${humanTime(certificate.revokedAt)}`)
    if (certificate.renewalWindow !== undefined) {
      out.push(
        `  ARI window   ${humanTime(certificate.renewalWindow.start)} to ${humanTime(certificate.renewalWindow.end)}${
          certificate.renewalWindow.explanationURL !== undefined ? ` (${certificate.renewalWindow.explanationURL})` : ""
        }`
      )
    }
    const at = certificate.next.at !== undefined && certificate.next.action === "renew later"
      ? ` at ${humanTime(certificate.next.at)}`
      : ""
    out.push(`  next         ${certificate.next.action}${at}: ${certificate.next.reason}`)
    if (certificate.lease !== undefined) out.push(`  renewing     by ${leaseHolder(certificate.lease)}`)
  }
  if (report.runs.length > 0) out.push("", "runs going on")
  for (const run of report.runs) out.push(`  ${leaseHolder(run)}`)
  return out
}

const leaseHolder = (lease: Status.LeaseStatus): string =>
  `run ${lease.runId} (pid ${lease.pid} on ${lease.host}), lease until ${humanTime(lease.expiresAt)}`

/**
 * An account for people.
 *
 * @since 0.1.0
 * @category summaries
 */
export const accountLines = (summary: Accounts.Summary): Array<string> => [
  `account   ${summary.url}`,
  `status    ${summary.status}`,
  `CA        ${summary.directoryUrl}`,
  `name      ${summary.name}`,
  `contact   ${summary.contact.length > 0 ? summary.contact.join(", ") : "(none)"}`,
  `key       ${summary.algorithm}, thumbprint ${summary.keyThumbprint}`,
  `created   ${humanTime(summary.createdAt)}`
]
