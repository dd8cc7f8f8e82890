/**
 * `acme account show | rollover | deactivate | update-contact`: the stored account at its CA.
 *
 * @since 0.1.0
 */
import { Accounts } from "@acme/sdk"
import { Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { UsageError } from "../CliError.js"
import * as Common from "../Common.js"
import * as ConfigFile from "../ConfigFile.js"
import * as Layers from "../Layers.js"
import * as Output from "../Output.js"

type Requirements = Effect.Effect.Context<typeof Accounts.show>

const withAccount = <E>(
  options: { readonly config: Option.Option<string>; readonly json: boolean; readonly verbose: boolean },
  program: Effect.Effect<Accounts.Summary, E, Requirements>,
  status: string
) =>
  Effect.gen(function*() {
    const loaded = yield* ConfigFile.load(options.config)
    const summary = yield* program.pipe(Output.withStatus(status), Effect.provide(Layers.protocol(loaded)))
    if (options.json) yield* Output.json(summary)
    else yield* Output.lines(Output.accountLines(summary))
  }).pipe(Output.withVerbosity(options.verbose))

/**
 * @since 0.1.0
 * @category commands
 */
export const show = Command.make(
  "show",
  Common.common,
  (options) => withAccount(options, Accounts.show, "asking the CA for the account…")
).pipe(
  Command.withDescription(Common.help({
    summary: "Show the account: its URL, status at the CA, contacts, key algorithm and thumbprint.",
    examples: [
      ["acme account show", "the account of ./acme.yaml's CA"],
      ["acme account show --json | jq -r .url", "just its URL"]
    ]
  }))
)

const key = Options.choice("key", ["ES256", "ES384", "RS256"] as const).pipe(
  Options.withDescription("The new key's algorithm. Default: the current key's."),
  Options.optional
)

/**
 * @since 0.1.0
 * @category commands
 */
export const rollover = Command.make(
  "rollover",
  { ...Common.common, key },
  (options) =>
    withAccount(
      options,
      Accounts.rollover(Option.getOrUndefined(options.key)),
      "rolling the account key over…"
    )
).pipe(
  Command.withDescription(Common.help({
    summary: "Replace the account's key with a new one (RFC 8555 §7.3.5). The CA refuses the old key afterwards.",
    details: ["Crash-safe: the new key is saved before the CA is asked, and an interrupted rollover is completed by the next one."],
    examples: [
      ["acme account rollover", "a new key of the same algorithm"],
      ["acme account rollover --key ES384", "a new ES384 key"]
    ]
  }))
)

const yes = Options.boolean("yes").pipe(
  Options.withDescription("Confirm: deactivation cannot be undone.")
)

/**
 * @since 0.1.0
 * @category commands
 */
export const deactivate = Command.make(
  "deactivate",
  { ...Common.common, yes },
  (options) =>
    Effect.gen(function*() {
      if (!options.yes) {
        return yield* new UsageError({
          message: "deactivating the account cannot be undone (the CA refuses it for good; its certificates stay valid)",
          hint: "run again with --yes to confirm"
        })
      }
      yield* withAccount(options, Accounts.deactivate, "deactivating the account…")
    })
).pipe(
  Command.withDescription(Common.help({
    summary: "Deactivate the account at the CA, for good (RFC 8555 §7.3.6). Its certificates stay valid.",
    details: ["New orders then need another account: set account.name to a new name and run `acme renew`."],
    examples: [["acme account deactivate --yes", "deactivate it (refused without --yes)"]]
  }))
)

const email = Options.text("email").pipe(
  Options.withPseudoName("ADDR"),
  Options.withDescription("A contact e-mail address; repeat for several. They replace the current contacts."),
  Options.atLeast(1)
)

const emailPattern = /^[^@\s]+@[^@\s]+\.[^@\s]+$/

/**
 * @since 0.1.0
 * @category commands
 */
export const updateContact = Command.make(
  "update-contact",
  { ...Common.common, email },
  (options) =>
    Effect.gen(function*() {
      const invalid = options.email.filter((address) => !emailPattern.test(address))
      if (invalid.length > 0) {
        return yield* new UsageError({
          message: `--email ${invalid.join(", ")}: not an e-mail address`,
          hint: "give addresses like ops@example.org"
        })
      }
      yield* withAccount(options, Accounts.updateContact(options.email), "updating the account's contacts…")
    })
).pipe(
  Command.withDescription(Common.help({
    summary: "Replace the account's contact addresses at the CA (where it sends expiry and policy notices).",
    details: ["Also set account.email in the configuration: it is used when an account is created."],
    examples: [
      ["acme account update-contact --email ops@example.org", "one address"],
      ["acme account update-contact --email ops@example.org --email security@example.org", "two"]
    ]
  }))
)

/**
 * @since 0.1.0
 * @category commands
 */
export const account = Command.make("account").pipe(
  Command.withDescription(Common.help({
    summary: "Manage the account at the CA: show it, roll its key over, change its contacts, deactivate it.",
    details: ["The account is the one the configuration names (account.name, default \"default\") at its CA; the first `acme renew` creates it."],
    examples: [
      ["acme account show", "the account's URL, status and contacts"],
      ["acme account rollover", "a new account key"]
    ]
  })),
  Command.withSubcommands([show, rollover, deactivate, updateContact])
)
