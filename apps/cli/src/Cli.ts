/**
 * The command tree of `acme`.
 *
 * @since 0.1.0
 */
import { Command } from "@effect/cli"
import { account } from "./commands/account.js"
import { demo } from "./commands/demo.js"
import { init } from "./commands/init.js"
import { renew } from "./commands/renew.js"
import { revoke } from "./commands/revoke.js"
import { status } from "./commands/status.js"
import * as Common from "./Common.js"
import { version } from "./version.js"

/**
 * @since 0.1.0
 * @category commands
 */
export const root = Command.make("acme").pipe(
  Command.withDescription(Common.help({
    summary: "Keep TLS certificates valid with an ACME CA (Let's Encrypt, or any RFC 8555 CA).",
    details: [
      "Every command reads the configuration file given by --config, else $ACME_CONFIG, else ./acme.yaml, ./acme.yml or ./acme.json. `acme <command> --help` describes each command.",
      "Exit codes: 0 nothing failed; 1 a certificate or the run failed; 2 the command line or the configuration is wrong."
    ],
    examples: [
      ["acme demo", "see it work against a local test CA"],
      ["acme init", "write a commented ./acme.yaml to start from"],
      ["acme renew", "renew what is due (from cron or a systemd timer)"],
      ["acme status", "what is stored, and when each certificate is renewed next"]
    ]
  })),
  Command.withSubcommands([renew, revoke, status, account, init, demo])
)

/**
 * Runs the command line (the whole `process.argv`: the first two entries are node and the script).
 *
 * @since 0.1.0
 * @category running
 */
export const run = Command.run(root, { name: "acme", version })
