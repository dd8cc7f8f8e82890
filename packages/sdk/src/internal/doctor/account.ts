/**
 * Is the stored account valid at the CA? One POST-as-GET of the account URL; no account stored yet
 * is fine (`acme renew` creates one).
 */
import * as Effect from "effect/Effect"
import * as Accounts from "../../Accounts.js"
import type { AcmeProtocol } from "../../AcmeProtocol.js"
import { RenewalSettings } from "../../RenewalSettings.js"
import type { Storage } from "../../Storage.js"
import * as finding from "./finding.js"
import type { Finding } from "./service.js"

/** @internal */
export const check: Effect.Effect<Finding, never, AcmeProtocol | Storage | RenewalSettings> = Effect.gen(function*() {
  const settings = yield* RenewalSettings
  const name = settings.config.account.name
  const at = { check: "account" as const, subject: name }
  const newName = "set account.name to a new name; the next `acme renew` creates that account"
  return yield* Accounts.show.pipe(
    Effect.map((summary) =>
      summary.status === "valid"
        ? finding.ok({ ...at, subject: summary.url }, `account "${name}" is valid`)
        : finding.fail({ ...at, subject: summary.url }, `account "${name}" is ${summary.status} at the CA`, newName)
    ),
    Effect.catchTags({
      NoAccount: () => Effect.succeed(finding.ok(at, `no account "${name}" stored yet; \`acme renew\` creates one`)),
      StorageError: (error) =>
        Effect.succeed(finding.fail(at, `cannot read the stored account: ${error.message}`, "check the storage"))
    }),
    Effect.catchAll((error) =>
      Effect.succeed(finding.fail(
        at,
        `the CA does not accept the stored account "${name}": ${finding.oneLine(error.message)}`,
        error._tag === "Unauthorized" || error._tag === "AccountDoesNotExist"
          ? newName
          : "check that the CA answers (see the ca check)"
      ))
    )
  )
})
