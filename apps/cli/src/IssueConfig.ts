/**
 * What `acme issue` adds to a configuration file: the CA and account when the file is new, and the
 * certificate, edited into the YAML document so that the user's other content (keys, comments,
 * order) stays as it was.
 *
 * @since 0.1.0
 */
import { Either } from "effect"
import * as YAML from "yaml"
import { UsageError } from "./CliError.js"

/**
 * What the command line asks for.
 *
 * @since 0.1.0
 * @category models
 */
export interface Request {
  readonly domains: ReadonlyArray<string>
  readonly email: string
  /** a preset name or a directory URL; none: the file's, or letsencrypt for a new file */
  readonly server: string | undefined
  readonly challenge: Readonly<Record<string, unknown>>
}

/**
 * The certificate's name: its first domain, a wildcard's `*.` written `wildcard.`.
 *
 * @since 0.1.0
 * @category naming
 */
export const nameFor = (domains: ReadonlyArray<string>): string =>
  (domains[0] ?? "certificate").replace(/^\*\./, "wildcard.").replace(/[^A-Za-z0-9._-]/g, "-").slice(0, 64)

const sameDomains = (a: ReadonlyArray<unknown>, b: ReadonlyArray<string>): boolean =>
  a.length === b.length && [...a].map(String).sort().join(",") === [...b].sort().join(",")

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** how many trailing labels two names share (`a.example.org` and `b.example.org`: 2) */
const sharedLabels = (a: string, b: string): number => {
  const left = a.toLowerCase().replace(/^\*\./, "").split(".").reverse()
  const right = b.toLowerCase().replace(/^\*\./, "").split(".").reverse()
  let shared = 0
  while (shared < left.length && left[shared] === right[shared]) shared++
  return shared
}

/**
 * The setup of a DNS provider that the command line names alone (`--dns rfc2136`): the challenge of
 * a certificate in the file through the same provider (its server, credentials, propagation), the
 * one whose names share the most trailing labels with the new ones (the same zone, most likely).
 */
const providerSetup = (
  listed: ReadonlyArray<unknown>,
  provider: unknown,
  domains: ReadonlyArray<string>
): { readonly from: string; readonly challenge: Readonly<Record<string, unknown>> } | undefined => {
  let best: { readonly from: string; readonly challenge: Readonly<Record<string, unknown>>; readonly score: number } | undefined
  for (const entry of listed) {
    if (!isRecord(entry) || !isRecord(entry.challenge) || typeof entry.name !== "string") continue
    const { draft: _draft, ...challenge } = entry.challenge
    if ((challenge.type !== "dns-01" && challenge.type !== "dns-account-01") || challenge.provider !== provider) continue
    const names = Array.isArray(entry.domains) ? entry.domains.map(String) : []
    const score = Math.max(0, ...names.flatMap((name) => domains.map((domain) => sharedLabels(name, domain))))
    if (best === undefined || score > best.score) best = { from: entry.name, challenge: { ...challenge, type: "dns-01" }, score }
  }
  return best === undefined ? undefined : { from: best.from, challenge: best.challenge }
}

/**
 * The new text of the configuration file (`existing`: its text, when there is one), and the name of
 * the certificate in it. A certificate with the same domains is kept as it is; a different CA, e-mail
 * address or certificate of the same name is a usage error (the file is left to the user to edit).
 *
 * @since 0.1.0
 * @category editing
 */
export const edit = (
  file: string,
  existing: string | undefined,
  request: Request
): Either.Either<
  {
    readonly text: string
    readonly name: string
    readonly added: boolean
    /** the certificate whose DNS provider setup the new one copied */
    readonly setupFrom?: string | undefined
  },
  UsageError
> => {
  const document = existing !== undefined
    ? YAML.parseDocument(existing)
    : new YAML.Document({
      ca: { directory: request.server ?? "letsencrypt" },
      account: { email: request.email },
      storage: { path: "./acme-data" },
      certificates: []
    })
  const directory = document.getIn(["ca", "directory"])
  if (request.server !== undefined && directory !== undefined && directory !== request.server) {
    return Either.left(
      new UsageError({
        message: `${file} uses the CA ${String(directory)}, not ${request.server}`,
        hint: "leave out --server, or give another --config file for the other CA"
      })
    )
  }
  const email = document.getIn(["account", "email"])
  if (email === undefined) document.setIn(["account", "email"], request.email)
  else if (email !== request.email) {
    return Either.left(
      new UsageError({
        message: `${file} has the account e-mail ${String(email)}, not ${request.email}`,
        hint: "give the same --email, or change account.email in the file (the contact is updated at the next run)"
      })
    )
  }
  const name = nameFor(request.domains)
  const certificates = document.getIn(["certificates"])
  const listed: ReadonlyArray<unknown> = YAML.isSeq(certificates) ? certificates.toJSON() : []
  for (const entry of listed) {
    if (typeof entry !== "object" || entry === null) continue
    const domains: unknown = "domains" in entry ? entry.domains : undefined
    const same = Array.isArray(domains) && sameDomains(domains, request.domains)
    if (same && "name" in entry && typeof entry.name === "string") {
      return Either.right({ text: document.toString(), name: entry.name, added: false })
    }
    if ("name" in entry && entry.name === name) {
      return Either.left(
        new UsageError({
          message: `${file} has a certificate named ${name} with other domains`,
          hint: "remove or rename it in the file, or issue the same domains"
        })
      )
    }
  }
  // `--dns PROVIDER` alone: the provider's options (server, credentials) as another certificate has them
  const setup = request.challenge.type === "dns-01" && Object.keys(request.challenge).length === 2
    ? providerSetup(listed, request.challenge.provider, request.domains)
    : undefined
  const certificate = { name, domains: [...request.domains], challenge: setup?.challenge ?? request.challenge }
  if (YAML.isSeq(certificates) && certificates.items.length > 0) certificates.add(document.createNode(certificate))
  else document.setIn(["certificates"], document.createNode([certificate], { flow: false }))
  return Either.right({ text: document.toString(), name, added: true, setupFrom: setup?.from })
}
