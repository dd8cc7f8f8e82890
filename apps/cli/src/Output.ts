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
import { Renewal } from "@acme/sdk"
import { Cause, Context, DateTime, Effect, FiberRef, FiberRefs, Inspectable, Layer, Logger, LogLevel } from "effect"

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
  /**
   * a failure is about to be retried: on a terminal, once its error was printed, lines that repeat it
   * are left out (the status line says what happens), so that an error is printed once, not at
   * every attempt
   */
  readonly retrying: (error: string) => void
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
  // on a terminal: the last lines printed, and the errors not to print again
  const printed: Array<string> = []
  const repeated = new Set<string>()
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
      for (const error of repeated) if (text.includes(error)) return
      clear()
      stderr.write(`${text}\n`)
      if (current !== undefined) stderr.write(fit(current))
      printed.push(text)
      if (printed.length > 100) printed.shift()
    },
    status: (text) => {
      if (!isTTY) return
      clear()
      current = text
      if (text !== undefined) stderr.write(fit(text))
    },
    retrying: (error) => {
      if (isTTY && error.length > 0 && printed.some((line) => line.includes(error))) repeated.add(error)
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

/** What a stage does, for the status line on a terminal. */
const doing: { readonly [stage: string]: string } = {
  scan: "reading storage and the CA's renewal info",
  plan: "deciding what to renew",
  deploy: "running the deploy hooks that failed before",
  account: "checking the account",
  order: "placing the order",
  present: "putting the challenge responses in place",
  verify: "waiting for the CA to validate",
  csr: "making the key and the certificate request",
  finalize: "asking the CA to issue the certificate",
  download: "downloading the certificate",
  store: "storing the certificate"
}

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
            else stderr.line(`${at} run ${event.runId} started (CA ${event.directoryUrl})`)
            return
          }
          case "StageStarted": {
            if (!stderr.isTTY) {
              stderr.line(`${at} ${subject(event.certificate)}: stage ${event.stage} started`)
              return
            }
            // errorHandler and scheduler leave the line to the retry ("waiting 4 s before retrying order")
            const what = doing[event.stage]
            if (what !== undefined) stderr.status(`${subject(event.certificate)}: ${what}…`)
            return
          }
          case "StageFinished": {
            if (!stderr.isTTY) stderr.line(`${at} ${subject(event.certificate)}: stage ${event.stage} finished`)
            return
          }
          case "Retrying": {
            // the pipeline logs a warning with the error (printed once on a terminal); here the status line changes
            stderr.retrying(event.error)
            stderr.status(
              `${subject(event.certificate)}: waiting ${seconds(event.waitMillis)} before retrying ${event.stage} (attempt ${event.attempt})…`
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

// -- summaries for people (stdout) ---------------------------------------------------------------

export {
  /** @since 0.1.0 */
  accountLines,
  /** @since 0.1.0 */
  plannerLine,
  /** @since 0.1.0 */
  reportLines,
  /** @since 0.1.0 */
  statusLines
} from "./Summaries.js"
