/**
 * CAA (RFC 8659): may the CA issue for a name? The relevant record set is the one of the name
 * itself or, when it has none, of its closest ancestor that has one (the tree is climbed up to, not
 * including, the root). Of that set, a wildcard name is decided by its `issuewild` records when
 * there are any, else by its `issue` records; another name by its `issue` records. No set at all,
 * or a set without such records, lets every CA issue.
 */
import * as Effect from "effect/Effect"
import * as finding from "./finding.js"
import { type CaaRecord, type Finding, Lookups } from "./service.js"

/** the tags RFC 8659 and its extensions define; a critical record with another tag forbids issuance */
const knownTags = new Set(["issue", "issuewild", "iodef", "contactemail", "contactphone", "issuemail", "issuevmc"])

/**
 * An `issue` / `issuewild` value: the issuer's domain (undefined for `;`, which allows no one) and
 * its parameters.
 */
export interface IssueValue {
  readonly issuer: string | undefined
  readonly parameters: ReadonlyMap<string, string>
}

/** @internal */
export const parseIssueValue = (value: string): IssueValue => {
  const [head = "", ...rest] = value.split(";")
  const issuer = head.trim().toLowerCase().replace(/\.$/, "")
  const parameters = new Map<string, string>()
  for (const part of rest) {
    const index = part.indexOf("=")
    if (index > 0) parameters.set(part.slice(0, index).trim().toLowerCase(), part.slice(index + 1).trim())
  }
  return { issuer: issuer.length === 0 ? undefined : issuer, parameters }
}

/** `a.b.c` → `a.b.c`, `b.c`, `c` */
const ancestors = (name: string): ReadonlyArray<string> => {
  const labels = name.split(".").filter((label) => label.length > 0)
  return labels.map((_, index) => labels.slice(index).join("."))
}

/** what the CA is called in messages, and the domains it recognises in CAA records */
export interface CaIdentity {
  readonly title: string
  /** `undefined`: not known (the directory lists no `caaIdentities` and no preset names them) */
  readonly identities: ReadonlyArray<string> | undefined
}

const describe = (values: ReadonlyArray<IssueValue>): string =>
  values.map((value) => value.issuer ?? "no CA (\";\")").join(", ")

/**
 * The decision for one name, given the record set that is relevant to it (found at `at`).
 *
 * @internal
 */
export const evaluate = (input: {
  readonly certificate: string
  /** the name as configured (`*.example.org` included) */
  readonly name: string
  readonly at: string
  readonly records: ReadonlyArray<CaaRecord>
  readonly ca: CaIdentity
  readonly challenge: string
}): Finding => {
  const subject = { check: "caa" as const, certificate: input.certificate, subject: input.name }
  const critical = input.records.find((record) => record.critical && !knownTags.has(record.tag.toLowerCase()))
  if (critical !== undefined) {
    return finding.fail(
      subject,
      `the CAA record at ${input.at} with the critical tag "${critical.tag}" forbids every CA that does not know the tag`,
      `remove that record at ${input.at}, or clear its critical flag`
    )
  }
  const wildcard = input.name.startsWith("*.")
  const byTag = (tag: string) => input.records.filter((record) => record.tag.toLowerCase() === tag)
  const tag = wildcard && byTag("issuewild").length > 0 ? "issuewild" : "issue"
  const relevant = byTag(tag).map((record) => parseIssueValue(record.value))
  if (relevant.length === 0) {
    return finding.ok(subject, `the CAA records at ${input.at} do not restrict ${tag === "issue" ? "issuance" : "wildcards"}`)
  }
  const record = `${input.at}. CAA 0 ${tag} "${input.ca.identities?.[0] ?? "<the CA's domain>"}"`
  const identities = input.ca.identities
  if (identities === undefined) {
    return finding.warn(
      subject,
      `CAA at ${input.at} allows only ${describe(relevant)} (${tag}); ${input.ca.title} does not say which CAA names it answers to`,
      `check that one of them is ${input.ca.title}'s CAA domain, or add \`${record}\``
    )
  }
  const matching = relevant.filter((value) => value.issuer !== undefined && identities.includes(value.issuer))
  if (matching.length === 0) {
    return finding.fail(
      subject,
      `CAA at ${input.at} allows only ${describe(relevant)} (${tag}), not ${input.ca.title} (${identities.join(", ")})`,
      `add \`${record}\` to the zone`
    )
  }
  const allowsMethod = matching.some((value) => {
    const methods = value.parameters.get("validationmethods")
    return methods === undefined || methods.split(",").map((m) => m.trim().toLowerCase()).includes(input.challenge)
  })
  if (!allowsMethod) {
    return finding.fail(
      subject,
      `CAA at ${input.at} allows ${input.ca.title} only with validationmethods other than ${input.challenge}`,
      `add ${input.challenge} to validationmethods of that record at ${input.at}, or use the challenge it allows`
    )
  }
  return finding.ok(subject, `CAA at ${input.at} allows ${input.ca.title} (${tag} ${matching[0]?.issuer ?? ""})`)
}

/**
 * Climbs from the name to its closest ancestor with CAA records and decides.
 *
 * @internal
 */
export const check = (input: {
  readonly certificate: string
  readonly name: string
  readonly ca: CaIdentity
  readonly challenge: string
}): Effect.Effect<Finding, never, Lookups> =>
  Effect.gen(function*() {
    const lookups = yield* Lookups
    const subject = { check: "caa" as const, certificate: input.certificate, subject: input.name }
    const base = input.name.startsWith("*.") ? input.name.slice(2) : input.name
    for (const at of ancestors(base)) {
      const records = yield* Effect.either(lookups.caa(at))
      if (records._tag === "Left") {
        return finding.fail(
          subject,
          `the CAA lookup of ${at} failed (${records.left.description}); a CA refuses to issue when it cannot read CAA`,
          `make the name servers of ${at} answer CAA queries (an empty answer is fine)`
        )
      }
      if (records.right.length > 0) {
        return evaluate({ ...input, at, records: records.right })
      }
    }
    return finding.ok(subject, `no CAA records at ${base} or above: every CA may issue`)
  })
