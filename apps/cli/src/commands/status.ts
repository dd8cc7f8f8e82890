/**
 * `acme status`: what each configured certificate looks like now and what `renew` would do.
 *
 * @since 0.1.0
 */
import { Status } from "@acme/sdk"
import { Command } from "@effect/cli"
import { Effect } from "effect"
import * as Common from "../Common.js"
import * as ConfigFile from "../ConfigFile.js"
import * as Layers from "../Layers.js"
import * as Output from "../Output.js"

/**
 * @since 0.1.0
 * @category commands
 */
export const status = Command.make(
  "status",
  { ...Common.common, only: Common.only },
  (options) =>
    Effect.gen(function*() {
      const selected = yield* Common.onlyNames(options.only, "status")
      const loaded = yield* ConfigFile.load(options.config)
      yield* Common.checkNames(loaded.settings.config, loaded.file, selected, "--only")
      const report = yield* Status.statusOf({ only: selected }).pipe(
        Output.withStatus("reading storage and the CA's renewal info…"),
        Effect.provide(Layers.protocol(loaded))
      )
      if (options.json) yield* Output.json(report)
      else yield* Output.lines(Output.statusLines(report))
    }).pipe(Output.withVerbosity(options.verbose))
).pipe(
  Command.withDescription(Common.help({
    summary:
      "Show each configured certificate: its names, serial, expiry and days left, the CA's renewal window (ARI) when known, and what `acme renew` would do next, and why.",
    details: ["Changes nothing (a renewal window the CA sends is kept, as a renewal would keep it)."],
    examples: [
      ["acme status", "a block per certificate"],
      ["acme status --only web", "the certificate named web only"],
      ["acme status --json | jq '.certificates[] | {name, daysLeft}'", "days left per certificate"]
    ]
  }))
)
