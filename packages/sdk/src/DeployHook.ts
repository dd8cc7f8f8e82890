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
  override get message(): string {
    const what = this.reason === "ExitCode"
      ? `exited with code ${this.exitCode ?? "?"}`
      : this.reason === "Timeout"
      ? "did not finish in time"
      : "could not be started"
    const output = this.output.trim().length > 0 ? `: ${this.output.trim().split("\n").slice(-3).join(" | ")}` : ""
    return `the deploy hook of ${this.certificate} (${this.command}) ${what}${output}; the new files are in place, fix the hook and run it by hand`
  }
}

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
