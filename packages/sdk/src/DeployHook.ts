/**
 * Runs a certificate's deploy hook after its files are in place (to reload a web server, copy the
 * files elsewhere, ...). The command gets the certificate's paths in its environment:
 *
 * | variable | value |
 * | --- | --- |
 * | `ACME_CERT_NAME` | the certificate's name |
 * | `ACME_DOMAINS` | its names, space-separated |
 * | `ACME_SERIAL` | the new certificate's serial (hex) |
 * | `ACME_CERT_PATH`, `ACME_CHAIN_PATH`, `ACME_FULLCHAIN_PATH`, `ACME_KEY_PATH` | the files |
 * | `ACME_LIVE_DIR` | the folder holding them |
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

/**
 * @since 0.1.0
 * @category errors
 */
export class DeployHookError extends Schema.TaggedError<DeployHookError>("@acme/sdk/DeployHookError")("DeployHookError", {
  certificate: Schema.String,
  command: Schema.String,
  reason: Schema.Literal("ExitCode", "Timeout", "Spawn"),
  exitCode: Schema.optional(Schema.Number),
  output: Schema.String
}) {
  /** what went wrong, with the last lines of its output: `exited with code 3: nginx: ...` */
  get failure(): string {
    const what = this.reason === "ExitCode"
      ? `exited with code ${this.exitCode ?? "?"}`
      : this.reason === "Timeout"
      ? "did not finish in time"
      : "could not be started"
    const output = this.output.trim().length > 0 ? `: ${this.output.trim().split("\n").slice(-3).join(" | ")}` : ""
    return `${what}${output}`
  }

  override get message(): string {
    return `the deploy hook of ${this.certificate} (${this.command}) ${this.failure}; the new files are in place, and the next \`acme renew\` runs the hook again until it succeeds`
  }
}

/**
 * A deploy hook the certificate in place is still owed: kept in its metadata from the moment it is
 * stored until its hook succeeds, so that a hook that failed (or a crash before it ran) is run
 * again by the next renewal run, alone, however long the certificate is not due.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PendingDeploy = Schema.Struct({
  /** when the certificate in place was stored */
  since: Schema.String,
  /** how many times its hook ran and failed (0: not run yet) */
  attempts: Schema.Number,
  /** the last failure, in one line */
  error: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export type PendingDeploy = typeof PendingDeploy.Type

/**
 * What became of a certificate's deploy hook in a run: `pending` (it failed, or the run did not get
 * to it: it runs again next time) or `done` (a hook that had failed succeeded).
 *
 * @since 0.1.0
 * @category schemas
 */
export const DeployOutcome = Schema.Struct({
  status: Schema.Literal("pending", "done"),
  since: Schema.optional(Schema.String),
  attempts: Schema.optional(Schema.Number),
  error: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export type DeployOutcome = typeof DeployOutcome.Type

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly run: (options: {
    readonly certificate: string
    readonly command: string
    readonly environment: Readonly<Record<string, string>>
  }) => Effect.Effect<void, DeployHookError>
}

/**
 * Where hooks run. By default there is nowhere to run them: a certificate with a deploy hook then
 * fails with a message saying to provide a runner (`NodeDeployHook.layer` from @acme/platform-node).
 *
 * @since 0.1.0
 * @category tags
 */
export class DeployHook extends Context.Reference<DeployHook>()("@acme/sdk/DeployHook", {
  defaultValue: (): Service => ({
    run: (options) =>
      Effect.fail(
        new DeployHookError({
          certificate: options.certificate,
          command: options.command,
          reason: "Spawn",
          output: "no DeployHook runner is provided (use NodeDeployHook.layer from @acme/platform-node)"
        })
      )
  })
}) {}
