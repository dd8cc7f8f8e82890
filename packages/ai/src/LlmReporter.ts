/**
 * A `Reporter` that adds a short prose summary, written by a language model, to the deterministic
 * report. The report itself (what was renewed, skipped or failed, and why) is the deterministic
 * reporter's, unchanged; the prose goes into its `summary` field. The model sees the report as
 * {@link ModelInput.Report} (names, domains, actions, reasons, errors, redacted; no paths, serials,
 * run ids or URLs).
 *
 * When the model does not answer within the timeout (default 30 seconds), answers with an error or
 * with nothing, the report has no `summary` and a warning is logged: a summary never fails a run.
 *
 * @since 0.1.0
 */
import * as Reporter from "@acme/sdk/Reporter"
import * as LanguageModel from "@effect/ai/LanguageModel"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { describe } from "./internal/failure.js"
import * as ModelInput from "./ModelInput.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** the provider's name for log lines */
  readonly provider: string
  readonly model: string
  /** the reporter whose report is returned, with the summary added */
  readonly deterministic: Reporter.Service
  /** how long to wait for the model; default 30 seconds */
  readonly timeout?: Duration.DurationInput | undefined
}

/**
 * The instructions the model gets with the report.
 *
 * @since 0.1.0
 * @category constants
 */
export const instructions = [
  "You summarise a TLS certificate renewal run for the operator who runs it from cron.",
  "You get the run's report as JSON. Write two to four plain sentences: what was renewed, what failed and",
  "what to do about it, what is next. Use only facts from the report; no headings, no lists, no markdown."
].join(" ")

/** at most this many characters of prose */
const maxLength = 1200

const tidy = (text: string): string | undefined => {
  const prose = text.replace(/[ \t]+/g, " ").replace(/\n{3,}/g, "\n\n").trim()
  if (prose.length === 0) return undefined
  return prose.length > maxLength ? `${prose.slice(0, maxLength - 1)}…` : prose
}

/**
 * A prose reporter over the `LanguageModel` in context.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Reporter.Service, never, LanguageModel.LanguageModel> =>
  Effect.map(LanguageModel.LanguageModel, (model) => fromLanguageModel(model, options))

/**
 * A prose reporter over a `LanguageModel` service.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromLanguageModel = (model: LanguageModel.Service, options: Options): Reporter.Service => {
  const timeout = Duration.decode(options.timeout ?? Duration.seconds(30))
  return {
    summarize: (state) =>
      Effect.gen(function*() {
        const report = yield* options.deterministic.summarize(state)
        if (report.certificates.length === 0) return report
        const answer = yield* ModelInput.report(report).pipe(
          Effect.flatMap((input) =>
            model.generateText({
              prompt: [
                { role: "system", content: instructions },
                { role: "user", content: JSON.stringify(input) }
              ]
            }).pipe(Effect.timeout(timeout))
          ),
          Effect.either
        )
        if (answer._tag === "Left") {
          yield* Effect.logWarning(
            `reporter ${options.provider} (${options.model}): ${
              describe(options.provider, timeout, answer.left)
            }; no prose summary`
          )
          return report
        }
        const summary = tidy(answer.right.text)
        if (summary === undefined) {
          yield* Effect.logWarning(`reporter ${options.provider} (${options.model}): empty answer; no prose summary`)
          return report
        }
        return { ...report, summary }
      }).pipe(
        Effect.catchAllDefect(() =>
          Effect.zipRight(
            Effect.logWarning(`reporter ${options.provider}: the model's client failed; no prose summary`),
            options.deterministic.summarize(state)
          )
        ),
        Effect.withSpan("LlmReporter.summarize", { attributes: { "acme.reporter.provider": options.provider } })
      )
  }
}

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<Reporter.Reporter, never, LanguageModel.LanguageModel> =>
  Layer.effect(Reporter.Reporter, make(options))
