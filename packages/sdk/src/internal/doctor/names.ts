/**
 * Does a name resolve (A / AAAA)? The CA needs it for http-01 and tls-alpn-01; for dns-01 it only
 * looks at the TXT record, so a name without addresses is a warning there.
 */
import * as Effect from "effect/Effect"
import * as finding from "./finding.js"
import { type Finding, Lookups } from "./service.js"

/** @internal */
export const check = (input: {
  readonly certificate: string
  readonly name: string
  readonly challenge: string
}): Effect.Effect<{ readonly finding: Finding; readonly addresses: ReadonlyArray<string> }, never, Lookups> =>
  Effect.gen(function*() {
    const lookups = yield* Lookups
    const subject = { check: "dns" as const, certificate: input.certificate, subject: input.name }
    if (input.name.startsWith("*.")) {
      return {
        finding: finding.skip(subject, "a wildcard name is validated through its TXT record only"),
        addresses: []
      }
    }
    const found = yield* Effect.either(lookups.addresses(input.name))
    if (found._tag === "Left") {
      return {
        finding: finding.fail(
          subject,
          `cannot resolve ${input.name}: ${found.left.description}`,
          `check the name servers of ${input.name} (they must answer A and AAAA queries)`
        ),
        addresses: []
      }
    }
    const addresses = found.right
    if (addresses.length > 0) {
      return { finding: finding.ok(subject, `resolves to ${addresses.join(", ")}`), addresses }
    }
    const fix = `add an A (or AAAA) record for ${input.name} pointing at this server`
    return {
      finding: input.challenge === "dns-01"
        ? finding.warn(subject, `${input.name} has no A or AAAA record (dns-01 does not need one)`, fix)
        : finding.fail(subject, `${input.name} has no A or AAAA record: the CA cannot reach it for ${input.challenge}`, fix),
      addresses
    }
  })
