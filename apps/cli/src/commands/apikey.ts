/**
 * `acme apikey create | list | revoke`: the API keys of `acme serve`. A key is shown once, when it
 * is made; the storage keeps only its SHA-256 hash.
 *
 * @since 0.1.0
 */
import type { ServiceRecords } from "@acme/sdk"
import * as ApiKeys from "@acme/server/ApiKeys"
import { Args, Command, Options } from "@effect/cli"
import { Effect, Option, Redacted } from "effect"
import { UsageError } from "../CliError.js"
import * as Common from "../Common.js"
import * as Output from "../Output.js"
import * as Records from "../Records.js"

const name = Options.text("name").pipe(
  Options.withPseudoName("NAME"),
  Options.withDescription("What the key is for (who uses it), e.g. ci or grafana; listed, never secret.")
)

const scope = Options.choice("scope", ["read", "write"] as const).pipe(
  Options.withDescription("read: GET only (status, tasks); write: also renew and revoke (POST).")
)

const create = Command.make(
  "create",
  { ...Common.common, name, scope },
  (options) =>
    Effect.gen(function*() {
      const records = yield* Records.open(options.config)
      const created = yield* ApiKeys.create(records, { name: options.name, scope: options.scope, actor: "cli" })
      const key = Redacted.value(created.key)
      if (options.json) {
        yield* Output.json({ id: created.record.id, key, name: created.record.name, scope: created.record.scope })
      } else {
        yield* Output.errorLine(
          `created API key ${created.record.id} "${created.record.name}" (${created.record.scope}); the key is shown this once (only its hash is kept):`
        )
        yield* Output.stdout(`${key}\n`)
      }
    }).pipe(Effect.scoped, Output.withVerbosity(options.verbose))
).pipe(
  Command.withDescription(Common.help({
    summary: "Make an API key for acme serve and print it (once: only its SHA-256 hash is stored).",
    details: ["The key goes to stdout, the rest to stderr, so KEY=$(acme apikey create ...) keeps just the key."],
    examples: [
      ["acme apikey create --name grafana --scope read", "a key that may only read"],
      ["acme apikey create --name deploy --scope write --json", "{\"id\": ..., \"key\": ...} for a script"]
    ]
  }))
)

const listed = (key: ServiceRecords.ApiKey) => ({
  id: key.id,
  name: key.name,
  scope: key.scope,
  createdAt: key.createdAt,
  revokedAt: key.revokedAt
})

const list = Command.make(
  "list",
  Common.common,
  (options) =>
    Effect.gen(function*() {
      const records = yield* Records.open(options.config)
      const keys = yield* records.listApiKeys
      if (options.json) return yield* Output.json({ keys: keys.map(listed) })
      if (keys.length === 0) return yield* Output.lines(["no API keys (acme apikey create makes one)"])
      yield* Output.lines(keys.map((key) =>
        `${key.id}  ${key.scope.padEnd(5)}  ${key.name}  created ${key.createdAt}${
          key.revokedAt === undefined ? "" : `  revoked ${key.revokedAt}`
        }`
      ))
    }).pipe(Effect.scoped, Output.withVerbosity(options.verbose))
).pipe(
  Command.withDescription(Common.help({
    summary: "List the API keys: id, scope, name, when each was made and revoked (never the keys).",
    examples: [["acme apikey list", "one line per key"], ["acme apikey list --json", "as JSON"]]
  }))
)

const id = Args.text({ name: "ID" }).pipe(Args.withDescription("The key's id (k_..., from acme apikey list)."))

const revoke = Command.make(
  "revoke",
  { ...Common.common, id },
  (options) =>
    Effect.gen(function*() {
      const records = yield* Records.open(options.config)
      const revoked = yield* ApiKeys.revoke(records, options.id, "cli")
      if (Option.isNone(revoked)) {
        return yield* new UsageError({ message: `there is no API key ${options.id}`, hint: "acme apikey list shows them" })
      }
      if (options.json) yield* Output.json({ key: listed(revoked.value) })
      else yield* Output.lines([`revoked ${revoked.value.id} "${revoked.value.name}" at ${revoked.value.revokedAt ?? ""}`])
    }).pipe(Effect.scoped, Output.withVerbosity(options.verbose))
).pipe(
  Command.withDescription(Common.help({
    summary: "Revoke an API key: acme serve refuses it from then on (401). It stays listed.",
    examples: [["acme apikey revoke k_3f9a1c2b7d04", "revoke that key"]]
  }))
)

/**
 * @since 0.1.0
 * @category commands
 */
export const apikey = Command.make("apikey").pipe(
  Command.withDescription(Common.help({
    summary: "Manage the API keys of acme serve.",
    examples: [
      ["acme apikey create --name ci --scope write", "make a key"],
      ["acme apikey list", "list them"],
      ["acme apikey revoke k_3f9a1c2b7d04", "revoke one"]
    ]
  })),
  Command.withSubcommands([create, list, revoke])
)
