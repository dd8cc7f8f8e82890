/**
 * A `Planner` that asks a language model (any `@effect/ai` `LanguageModel`: Anthropic, OpenAI, an
 * OpenAI-compatible server) for advice, behind the guards of `Planner.advise`.
 *
 * 1. The deterministic planner plans first; its decisions stand.
 * 2. The model gets the scan ({@link ModelInput.Scan}: names, domains, dates, days left, the ARI
 *    window, the deterministic decision and reason, the last error; never keys, account URLs or
 *    secrets) and answers with a JSON object decoded by {@link Answer} (structured output:
 *    `LanguageModel.generateObject`).
 * 3. The answer may only order the certificates that are due and explain: invented names are
 *    dropped, forgotten certificates keep their deterministic decision (restored), and a renew/skip
 *    that differs from the deterministic one is reported and ignored.
 * 4. No answer within the timeout (default 30 seconds, on Effect's Clock), an HTTP error (a 429,
 *    a 5xx), a transport error or an answer that does not decode: the deterministic plan, with
 *    `fallback: true` and the reason. The plan never fails and the model is asked once (no retry:
 *    advice is not worth delaying renewals for).
 *
 * @since 0.1.0
 */
import * as Planner from "@acme/sdk/Planner"
import * as LanguageModel from "@effect/ai/LanguageModel"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { describe } from "./internal/failure.js"
import * as ModelInput from "./ModelInput.js"

/**
 * The answer the model is asked for (its JSON Schema is sent as the structured output format).
 * Every field is required, as OpenAI's strict structured outputs want.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Answer = Schema.Struct({
  certificates: Schema.Array(
    Schema.Struct({
      name: Schema.String.annotations({ description: "the certificate's name, exactly as in the scan" }),
      action: Schema.Literal("renew", "skip").annotations({
        description: "renew now or skip; must match the decision in the scan"
      }),
      explanation: Schema.String.annotations({ description: "one short sentence for the operator" })
    })
  ).annotations({ description: "every certificate of the scan, the ones to renew first, in the order to renew them" })
}).annotations({ description: "The order in which to renew the certificates that are due, with a note on each" })

/**
 * @since 0.1.0
 * @category models
 */
export type Answer = typeof Answer.Type

/**
 * The instructions the model gets with the scan.
 *
 * @since 0.1.0
 * @category constants
 */
export const instructions = [
  "You help an operator renew TLS certificates with ACME.",
  "You get a JSON scan of the configured certificates. Each has the decision of a deterministic planner",
  "(renew now or skip) with its reason; that decision stands and you must not change it.",
  "Answer with every certificate of the scan, exactly by its name and with its decision: first the ones to",
  "renew, in the order they should be renewed (the most urgent first: expired, revoked, fewest days left,",
  "failed last time), then the ones to skip. Add one short sentence for the operator to each.",
  "Never add a certificate that is not in the scan."
].join(" ")

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** the provider's name for the report (`anthropic`, `openai`, `openai-compatible`) */
  readonly provider: string
  /** the model's name for the report */
  readonly model: string
  /** the planner whose decisions stand and that is followed when the model's answer is unusable */
  readonly deterministic: Planner.Service
  /** how long to wait for the model; default 30 seconds */
  readonly timeout?: Duration.DurationInput | undefined
}

/**
 * The default time to wait for the model.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultTimeout: Duration.Duration = Duration.seconds(30)

/**
 * An advisory planner over the `LanguageModel` in context.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Planner.Service, never, LanguageModel.LanguageModel> =>
  Effect.map(LanguageModel.LanguageModel, (model) => fromLanguageModel(model, options))

/**
 * An advisory planner over a `LanguageModel` service.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromLanguageModel = (model: LanguageModel.Service, options: Options): Planner.Service => {
  const advisor: Planner.Advisor = { provider: options.provider, model: options.model }
  const timeout = Duration.decode(options.timeout ?? defaultTimeout)
  return {
    plan: (inputs) =>
      Effect.gen(function*() {
        const deterministic = yield* options.deterministic.plan(inputs)
        if (inputs.length === 0) return { ...deterministic, outcome: { ...deterministic.outcome, ...advisor } }
        const now = yield* DateTime.now
        const answer = yield* ModelInput.scan(inputs, deterministic, now).pipe(
          Effect.flatMap((scan) =>
            model.generateObject({
              prompt: [
                { role: "system", content: instructions },
                { role: "user", content: JSON.stringify(scan) }
              ],
              schema: Answer,
              objectName: "renewal_plan"
            }).pipe(Effect.timeout(timeout))
          ),
          Effect.either
        )
        if (answer._tag === "Left") {
          const reason = describe(options.provider, timeout, answer.left)
          yield* Effect.logWarning(
            `planner ${options.provider} (${options.model}): ${reason}; following the deterministic plan`
          )
          return Planner.fallback(deterministic, advisor, reason)
        }
        const advised = Planner.advise(inputs, deterministic, answer.right.value, advisor)
        const { dropped, restored } = advised.outcome
        if (dropped.length > 0 || restored.length > 0) {
          yield* Effect.logInfo(
            `planner ${options.provider}: ${
              [
                dropped.length > 0 ? `dropped ${dropped.join(", ")} (not configured)` : undefined,
                restored.length > 0 ? `restored ${restored.join(", ")} (left out of its answer)` : undefined
              ].filter((part) => part !== undefined).join("; ")
            }`
          )
        }
        return advised
      }).pipe(
        // a defect in a provider's client must not fail the run either
        Effect.catchAllDefect(() =>
          Effect.flatMap(options.deterministic.plan(inputs), (plan) =>
            Effect.as(
              Effect.logWarning(`planner ${options.provider}: the model's client failed; following the deterministic plan`),
              Planner.fallback(plan, advisor, `${options.provider}'s client failed unexpectedly`)
            ))
        ),
        Effect.withSpan("LlmPlanner.plan", { attributes: { "acme.planner.provider": options.provider } })
      )
  }
}

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<Planner.Planner, never, LanguageModel.LanguageModel> =>
  Layer.effect(Planner.Planner, make(options))
