/**
 * `acme init`: writes a commented starter configuration.
 *
 * @since 0.1.0
 */
import { Command, Options } from "@effect/cli"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { Config, Effect, Option } from "effect"
import { UsageError } from "../CliError.js"
import * as Common from "../Common.js"
import * as ConfigFile from "../ConfigFile.js"
import * as Output from "../Output.js"
import * as StarterConfig from "../StarterConfig.js"

const force = Options.boolean("force").pipe(
  Options.withDescription("Overwrite the file if it exists.")
)

const config = Options.text("config").pipe(
  Options.withAlias("c"),
  Options.withPseudoName("FILE"),
  Options.withDescription("Where to write it. Default: $ACME_CONFIG, else ./acme.yaml."),
  Options.optional
)

/**
 * @since 0.1.0
 * @category commands
 */
export const init = Command.make(
  "init",
  { config, force },
  (options) =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const fromEnv = yield* Config.option(Config.string("ACME_CONFIG")).pipe(
        Effect.orElseSucceed(() => Option.none<string>())
      )
      const file = Option.getOrElse(
        Option.orElse(options.config, () => Option.filter(fromEnv, (value) => value.length > 0)),
        () => ConfigFile.defaultNames[0] ?? "acme.yaml"
      )
      const target = path.resolve(file)
      if (!options.force && (yield* fs.exists(target))) {
        return yield* new UsageError({
          message: `${file} exists already; it was left as it is`,
          hint: "pass --force to overwrite it, or --config FILE to write another file"
        })
      }
      yield* fs.makeDirectory(path.dirname(target), { recursive: true })
      // the file may come to hold secrets (EAB): readable by its owner only
      yield* fs.writeFileString(target, StarterConfig.text, { mode: 0o600 })
      yield* fs.chmod(target, 0o600)
      yield* Output.lines([
        `wrote ${file}: a starter configuration, every key explained in its comments`,
        `next: edit ca.directory, account.email and certificates, then run \`acme status${
          file === "acme.yaml" ? "" : ` --config ${file}`
        }\` and \`acme renew --dry-run\``
      ])
    })
).pipe(
  Command.withDescription(Common.help({
    summary: "Write a commented starter configuration file (every key explained, with examples of the three challenge types).",
    details: ["Refuses to overwrite an existing file unless --force is given (exit code 2)."],
    examples: [
      ["acme init", "write ./acme.yaml"],
      ["acme init --config /etc/acme/acme.yaml", "write it there"],
      ["acme init --force", "start over: overwrite ./acme.yaml"]
    ]
  }))
)
