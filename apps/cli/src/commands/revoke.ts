/**
 * `acme revoke`: revokes stored certificates by name.
 *
 * @since 0.1.0
 */
import { CertificateName, Revocation, RevocationReason } from "@acme/sdk"
import { Command, Options } from "@effect/cli"
import { Effect, Schema } from "effect"
import * as Common from "../Common.js"
import * as ConfigFile from "../ConfigFile.js"
import * as Layers from "../Layers.js"
import * as Output from "../Output.js"

const names = Options.text("name").pipe(
  Options.withPseudoName("NAME"),
  Options.withDescription("The certificate to revoke (its configured name); repeat for several."),
  Options.atLeast(1),
  // after `atLeast`: @effect/cli repeats only a plain option, so the names are checked as a list
  Options.withSchema(Schema.mutable(Schema.NonEmptyArray(CertificateName.CertificateName)))
)

const reason = Options.choice("reason", RevocationReason.RevocationReason.literals).pipe(
  Options.withDescription("The reason given to the CA (RFC 5280). Use keyCompromise when the private key leaked."),
  Options.withDefault("unspecified" as const)
)

const signer = Options.choice("signer", ["account", "certificate-key"] as const).pipe(
  Options.withDescription(
    "Who signs the request: the account (default), or each certificate's own private key (works without the account)."
  ),
  Options.withDefault("account" as const)
)

/**
 * @since 0.1.0
 * @category commands
 */
export const revoke = Command.make(
  "revoke",
  { ...Common.common, names, reason, signer },
  (options) =>
    Effect.gen(function*() {
      const loaded = yield* ConfigFile.load(options.config)
      yield* Common.checkNames(loaded.settings.config, loaded.file, options.names, "--name")
      const report = yield* Revocation.revoke({
        names: options.names,
        reason: options.reason,
        signer: options.signer === "certificate-key" ? "certificateKey" : "account"
      }).pipe(Effect.provide(Layers.protocol(loaded)))
      yield* Common.finish(report, options.json)
    }).pipe(Output.withVerbosity(options.verbose))
).pipe(
  Command.withDescription(Common.help({
    summary: "Revoke certificates at the CA, by name. The files stay; the next `acme renew` replaces a revoked certificate.",
    details: [
      "A certificate that cannot be revoked is reported as failed and the others are still tried (exit code 1). One that was revoked already counts as revoked."
    ],
    examples: [
      ["acme revoke --name web", "revoke the certificate named web"],
      ["acme revoke --name web --reason keyCompromise --signer certificate-key", "its key leaked: sign with that key"],
      ["acme revoke --name web --name api --reason superseded --json", "two of them, the report as JSON"]
    ]
  }))
)
