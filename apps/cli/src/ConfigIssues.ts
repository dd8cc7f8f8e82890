/**
 * One line for the problems a Schema found in a configuration: each as `path: what is wrong and how
 * to fix it`. Used for the configuration file itself and for the options of each provider.
 *
 * @since 0.1.0
 */
import { CaPreset } from "@acme/sdk"
import { Array as Arr, type ParseResult } from "effect"

type Issue = ParseResult.ArrayFormatterIssue

/**
 * `certificates[1].name` for `["certificates", 1, "name"]`.
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>(
    (text, segment) =>
      typeof segment === "number"
        ? `${text}[${segment}]`
        : text.length === 0
        ? String(segment)
        : `${text}.${String(segment)}`,
    ""
  )

const expectedActual = /^Expected ([\s\S]+), actual ([\s\S]+)$/

const describeExpected = (expected: string): string => {
  if (expected === "string") return "a string"
  if (expected === "number") return "a number"
  if (expected === "boolean") return "true or false"
  if (expected === "Int") return "a whole number"
  if (expected.startsWith("Struct") || expected.startsWith("{")) {
    return /^\{ readonly env: /.test(expected) ? "{ env: NAME }" : "a mapping (key: value)"
  }
  if (/ReadonlyArray|Array/.test(expected) || expected.startsWith("readonly [")) return "a list"
  return expected
}

const shorten = (actual: string): string => actual.length > 60 ? `${actual.slice(0, 57)}...` : actual

/** Plain advice for a required key, by its path (`storage.url`) or else its name. */
const requiredAdvice: { readonly [key: string]: string } = {
  ca: "add `ca:` with `directory:` (a directory URL, or a preset such as letsencrypt)",
  directory: `add the CA's directory URL, or a preset: ${CaPreset.names.join(", ")}`,
  storage: "add `storage:` with `path:` (the folder for certificates, keys and accounts)",
  path: "add the folder for certificates, keys and accounts (relative to this file's folder, or absolute)",
  certificates: "add `certificates:` with at least one certificate (name, domains, challenge)",
  name: "add a name (it becomes the folder live/<name>/)",
  domains: "add the DNS names or IP addresses the certificate is for",
  challenge: "add `challenge:` with `type: http-01`, `dns-01`, `dns-account-01` or `tls-alpn-01`",
  type: "add the type: http-01, dns-01, dns-account-01 or tls-alpn-01",
  url: "add the URL of the DNS provider's API",
  provider: "add the provider's name (for dns-01 and dns-account-01: challtestsrv, rfc2136, cloudflare, route53, acme-dns)",
  kid: "add the key id the CA gave you, or { env: NAME }",
  hmacKey: "add the HMAC key the CA gave you, or { env: NAME }",
  "storage.url": "add the database's postgres:// URL, or { env: NAME }",
  encryptionKey: "add { env: NAME } or { file: PATH } with 32 random bytes in base64 (make them with: openssl rand -base64 32)"
}

/**
 * What to put in a required key that is there but empty (`null`, or a list with no entry): the advice
 * for its absence, reworded, so that an empty key and a missing one get the same fix (never "remove it").
 */
const emptyAdvice = (key: PropertyKey | undefined): string | undefined => {
  const advice = typeof key === "string" ? requiredAdvice[key] : undefined
  return advice === undefined
    ? undefined
    : `is empty: ${advice.replace(/^add `\w+:` with /, "give it ").replace(/^add /, "give it ")}`
}

const describeGroup = (path: ReadonlyArray<PropertyKey>, issues: ReadonlyArray<Issue>): string => {
  const last = path[path.length - 1]
  const missing = issues.find((issue) => issue._tag === "Missing")
  if (missing !== undefined) {
    // the first entry of an empty list is missing: the list is what to fix
    if (typeof last === "number") return emptyAdvice(path[path.length - 2]) ?? "must have at least one entry"
    const advice = requiredAdvice[formatPath(path)] ?? (typeof last === "string" ? requiredAdvice[last] : undefined)
    return `is required: ${advice ?? "add it"}`
  }
  const unexpected = issues.find((issue) => issue._tag === "Unexpected")
  if (unexpected !== undefined) {
    const keys = /expected: (.+)$/.exec(unexpected.message)?.[1]?.replace(/"/g, "").split(" | ").join(", ")
    return `unknown key; ${keys !== undefined ? `the keys allowed here are ${keys}` : "remove it"} (check the spelling)`
  }
  // a message of our own schemas (refinements, transformations) says it best
  const own = issues.find((issue) => !expectedActual.test(issue.message))
  if (own !== undefined) return own.message
  const parsed = issues.flatMap((issue) => {
    const match = expectedActual.exec(issue.message)
    return match?.[1] !== undefined && match[2] !== undefined ? [{ expected: match[1], actual: match[2] }] : []
  })
  const actual = shorten(parsed[0]?.actual ?? "")
  if (last === "env") {
    return `${actual} is not an environment variable name: use letters, digits and "_", not starting with a digit`
  }
  const alternatives = Arr.dedupe(parsed.flatMap(({ expected }) => expected.split(" | ")))
    .filter((expected) => expected !== "undefined")
  if (alternatives.length > 0 && alternatives.every((expected) => /^"[^"]*"$/.test(expected))) {
    return `${actual} is not allowed here: use one of ${alternatives.join(", ")}`
  }
  const patterns = alternatives.map((expected) => /^a string matching the pattern (.+)$/.exec(expected)?.[1])
  if (patterns.length === 1 && patterns[0] !== undefined) {
    return `${actual} does not match ${patterns[0]}`
  }
  const wanted = Arr.dedupe(alternatives.map(describeExpected)).join(" or ")
  if (actual === "null" && path.length > 0) {
    // a key that is required cannot be removed: say what to put there, as its absence does
    const advice = emptyAdvice(last)
    if (advice !== undefined) return advice
    return `is empty: give it ${wanted.length > 0 ? wanted : "a value"}, or remove it`
  }
  if (path.length === 0) {
    return `the file must hold a mapping (key: value) with ca, storage and certificates, not ${actual}`
  }
  return `expected ${wanted.length > 0 ? wanted : "another value"}, got ${actual}`
}

const startsWith = (path: ReadonlyArray<PropertyKey>, prefix: ReadonlyArray<PropertyKey>): boolean =>
  prefix.length < path.length && prefix.every((segment, index) => path[index] === segment)

/**
 * One line for the problems a schema found: each as `path: what is wrong and how to fix it`, the
 * most specific first, at most three of them.
 *
 * @since 0.1.0
 * @category formatting
 */
export const describeIssues = (issues: ReadonlyArray<Issue>): string => {
  const groups: Array<{ path: ReadonlyArray<PropertyKey>; issues: Array<Issue> }> = []
  for (const issue of issues) {
    const key = formatPath(issue.path)
    const group = groups.find((g) => formatPath(g.path) === key)
    if (group !== undefined) group.issues.push(issue)
    else groups.push({ path: issue.path, issues: [issue] })
  }
  // "Expected X, actual Y" at a path with a deeper problem is the noise of a union or an optional
  // field that tried each of its members: the deeper problem is the one to fix
  const specific = groups.filter((group) =>
    !(group.issues.every((issue) => issue._tag === "Type") &&
      groups.some((other) => startsWith(other.path, group.path)))
  )
  const lines = specific.map((group) => {
    const message = describeGroup(group.path, group.issues)
    // a list with no entry: the message is about the list, not its missing first entry
    const shown = typeof group.path[group.path.length - 1] === "number" && group.issues.some((i) => i._tag === "Missing")
      ? group.path.slice(0, -1)
      : group.path
    return shown.length === 0 ? message : `${formatPath(shown)}: ${message}`
  })
  const shown = lines.slice(0, 3).join("; ")
  return lines.length > 3 ? `${shown}; and ${lines.length - 3} more problems` : shown
}

