/**
 * The configuration file: where it is, how it is read (YAML; JSON is YAML), how it is checked
 * (`RenewalConfig.RenewalConfig`), and how what it points at is resolved (secrets from the
 * environment, trusted roots from files, paths relative to the file's folder).
 *
 * Every problem is one `ConfigFileError` whose message is one line naming the file and the path of
 * the bad value, and saying how to fix it:
 *
 * ```
 * acme.yaml: certificates[1].name: "../x" cannot be a certificate name: use 1 to 64 letters, ...
 * ```
 *
 * @since 0.1.0
 */
import { CaPreset, type Renewal, RenewalConfig } from "@acme/sdk"
import { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Array as Arr, Config, Effect, Either, Option, ParseResult, Redacted, Schema } from "effect"
import * as YAML from "yaml"
import { ConfigFileError } from "./CliError.js"

/**
 * The files looked for in the working directory when neither `--config` nor `$ACME_CONFIG` names one.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultNames: ReadonlyArray<string> = ["acme.yaml", "acme.yml", "acme.json"]

/**
 * A configuration file, read, checked and resolved.
 *
 * @since 0.1.0
 * @category models
 */
export interface Loaded {
  /** the file as the messages name it (as given, or the default name found) */
  readonly file: string
  /** its absolute path */
  readonly path: string
  /** the absolute folder it is in: relative paths in it are relative to this folder */
  readonly directory: string
  /**
   * The pipeline's settings: the decoded config with `storage.path` and every `webroot` made
   * absolute, `ca.trust` replaced by the PEM text of each entry, and the EAB secrets resolved.
   */
  readonly settings: Renewal.Settings
  /** PEM text of each `ca.trust` entry */
  readonly trust: ReadonlyArray<string>
  /** the absolute storage folder */
  readonly storagePath: string
}

/**
 * Where the configuration comes from.
 *
 * @since 0.1.0
 * @category models
 */
export interface Location {
  readonly file: string
  readonly path: string
  readonly source: "flag" | "env" | "default"
}

const nonEmpty = (text: string): Option.Option<string> => text.trim().length > 0 ? Option.some(text) : Option.none()

/**
 * Finds the configuration file: `--config FILE`, else `$ACME_CONFIG`, else the first of
 * `./acme.yaml`, `./acme.yml`, `./acme.json` that exists.
 *
 * @since 0.1.0
 * @category constructors
 */
export const locate = (
  flag: Option.Option<string>
): Effect.Effect<Location, ConfigFileError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const fs = yield* FileSystem.FileSystem
    const fromFlag = Option.flatMap(flag, nonEmpty)
    if (Option.isSome(fromFlag)) {
      return { file: fromFlag.value, path: path.resolve(fromFlag.value), source: "flag" as const }
    }
    const fromEnv = Option.flatMap(
      yield* Config.option(Config.string("ACME_CONFIG")).pipe(Effect.orElseSucceed(() => Option.none<string>())),
      nonEmpty
    )
    if (Option.isSome(fromEnv)) {
      return { file: fromEnv.value, path: path.resolve(fromEnv.value), source: "env" as const }
    }
    for (const name of defaultNames) {
      const candidate = path.resolve(name)
      if (yield* fs.exists(candidate).pipe(Effect.orElseSucceed(() => false))) {
        return { file: name, path: candidate, source: "default" as const }
      }
    }
    return yield* new ConfigFileError({
      reason: "NotFound",
      file: defaultNames[0] ?? "acme.yaml",
      message: `no configuration file: looked for ${defaultNames.map((name) => `./${name}`).join(", ")} in ${
        path.resolve(".")
      } (and $ACME_CONFIG is not set); pass --config FILE, set ACME_CONFIG, or create one with \`acme init\``
    })
  })

const readFailure = (location: Location) => (error: PlatformError): ConfigFileError => {
  const from = location.source === "flag" ? " (from --config)" : location.source === "env" ? " (from $ACME_CONFIG)" : ""
  const reason = error._tag === "SystemError" ? error.reason : "BadArgument"
  const what = reason === "NotFound"
    ? `no such file${from}; check the path, or create it with \`acme init --config ${location.file}\``
    : reason === "PermissionDenied"
    ? `cannot read it${from}: permission denied; run acme as a user who may read it`
    : `cannot read it${from}: ${(error.description ?? error.message).replace(/\s*\n\s*/g, " ")}; pass the path of a file`
  return new ConfigFileError({
    reason: reason === "NotFound" ? "NotFound" : "Unreadable",
    file: location.file,
    message: `${location.file}: ${what}`
  })
}

/**
 * Parses the text of a configuration file (YAML, of which JSON is a subset).
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (file: string, text: string): Either.Either<unknown, ConfigFileError> => {
  const syntax = (message: string) =>
    Either.left(
      new ConfigFileError({
        reason: "Syntax",
        file,
        message: `${file}: invalid YAML: ${message}; fix the syntax (indentation, a missing ":", an unclosed quote or bracket)`
      })
    )
  const document = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true })
  const first = document.errors[0]
  if (first !== undefined) {
    return syntax((first.message.split("\n")[0] ?? first.code).replace(/:\s*$/, ""))
  }
  try {
    return Either.right(document.toJS({ maxAliasCount: 100 }))
  } catch (error) {
    return syntax(error instanceof Error ? error.message.split("\n")[0] ?? error.name : String(error))
  }
}

// -- messages for schema errors ----------------------------------------------------------------

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

/** Plain advice for a required key, by its name. */
const requiredAdvice: { readonly [key: string]: string } = {
  ca: "add `ca:` with `directory:` (a directory URL, or a preset such as letsencrypt)",
  directory: `add the CA's directory URL, or a preset: ${CaPreset.names.join(", ")}`,
  storage: "add `storage:` with `path:` (the folder for certificates, keys and accounts)",
  path: "add the folder for certificates, keys and accounts (relative to this file's folder, or absolute)",
  certificates: "add `certificates:` with at least one certificate (name, domains, challenge)",
  name: "add a name (it becomes the folder live/<name>/)",
  domains: "add the DNS names or IP addresses the certificate is for",
  challenge: "add `challenge:` with `type: http-01`, `dns-01` or `tls-alpn-01`",
  type: "add the type: http-01, dns-01 or tls-alpn-01",
  url: "add the URL of the DNS provider's API",
  provider: "add the DNS provider (challtestsrv)",
  kid: "add the key id the CA gave you, or { env: NAME }",
  hmacKey: "add the HMAC key the CA gave you, or { env: NAME }"
}

const describeGroup = (path: ReadonlyArray<PropertyKey>, issues: ReadonlyArray<Issue>): string => {
  const last = path[path.length - 1]
  const missing = issues.find((issue) => issue._tag === "Missing")
  if (missing !== undefined) {
    if (typeof last === "number") return "must have at least one entry"
    const advice = typeof last === "string" ? requiredAdvice[last] : undefined
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
    // "must have at least one entry" is about the list, not its missing first entry
    const shown = typeof group.path[group.path.length - 1] === "number" && group.issues.some((i) => i._tag === "Missing")
      ? group.path.slice(0, -1)
      : group.path
    return shown.length === 0 ? message : `${formatPath(shown)}: ${message}`
  })
  const shown = lines.slice(0, 3).join("; ")
  return lines.length > 3 ? `${shown}; and ${lines.length - 3} more problems` : shown
}

/**
 * Checks parsed data against `RenewalConfig.RenewalConfig` (unknown keys are errors: a misspelt
 * key would otherwise be ignored without a word).
 *
 * @since 0.1.0
 * @category parsing
 */
export const decode = (
  file: string,
  data: unknown
): Either.Either<RenewalConfig.RenewalConfig, ConfigFileError> =>
  Schema.decodeUnknownEither(RenewalConfig.RenewalConfig, { errors: "all", onExcessProperty: "error" })(data).pipe(
    Either.mapLeft((error) =>
      new ConfigFileError({
        reason: "Invalid",
        file,
        message: `${file}: ${describeIssues(ParseResult.ArrayFormatter.formatErrorSync(error))}`
      })
    )
  )

// -- resolving ---------------------------------------------------------------------------------

const resolveSecret = (
  file: string,
  at: string,
  source: RenewalConfig.SecretSource
): Effect.Effect<string, ConfigFileError> =>
  typeof source === "string" ? Effect.succeed(source) : Config.string(source.env).pipe(
    Effect.flatMap((value) => value.length > 0 ? Effect.succeed(value) : Effect.fail("empty" as const)),
    Effect.mapError((problem) =>
      new ConfigFileError({
        reason: "Secret",
        file,
        message: `${file}: ${at}: environment variable ${source.env} is ${
          problem === "empty" ? "empty" : "not set"
        }; set it in the environment acme runs in (e.g. the systemd unit's EnvironmentFile=)`
      })
    )
  )

/**
 * The variables that give EAB credentials when the configuration has no `ca.eab`.
 *
 * @since 0.1.0
 * @category constants
 */
export const eabVariables = { kid: "ACME_EAB_KID", hmacKey: "ACME_EAB_HMAC_KEY" } as const

const optionalVariable = (name: string): Effect.Effect<Option.Option<string>> =>
  Config.option(Config.string(name)).pipe(
    Effect.map(Option.filter((value) => value.length > 0)),
    Effect.orElseSucceed(() => Option.none<string>())
  )

/** `ca.eab` from the file, else `$ACME_EAB_KID` and `$ACME_EAB_HMAC_KEY` (both or neither). */
const resolveEab = (
  file: string,
  eab: RenewalConfig.RenewalConfig["ca"]["eab"]
): Effect.Effect<Renewal.Settings["eab"], ConfigFileError> =>
  Effect.gen(function*() {
    if (eab !== undefined) {
      return Option.some({
        keyId: yield* resolveSecret(file, "ca.eab.kid", eab.kid),
        hmacKey: Redacted.make(yield* resolveSecret(file, "ca.eab.hmacKey", eab.hmacKey))
      })
    }
    const kid = yield* optionalVariable(eabVariables.kid)
    const hmacKey = yield* optionalVariable(eabVariables.hmacKey)
    if (Option.isSome(kid) && Option.isSome(hmacKey)) {
      return Option.some({ keyId: kid.value, hmacKey: Redacted.make(hmacKey.value) })
    }
    if (Option.isSome(kid) || Option.isSome(hmacKey)) {
      const [set, unset] = Option.isSome(kid)
        ? [eabVariables.kid, eabVariables.hmacKey]
        : [eabVariables.hmacKey, eabVariables.kid]
      return yield* new ConfigFileError({
        reason: "Secret",
        file,
        message: `${file}: ca.eab: ${set} is set but ${unset} is not; set both (or neither, or give ca.eab in the file)`
      })
    }
    return Option.none()
  })

const PEM = /-----BEGIN [A-Z0-9 ]+-----/

const resolveTrust = (
  file: string,
  directory: string,
  entries: ReadonlyArray<string>
): Effect.Effect<Array<string>, ConfigFileError, FileSystem.FileSystem | Path.Path> =>
  Effect.forEach(entries, (entry, index) =>
    Effect.gen(function*() {
      if (PEM.test(entry)) return entry
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const at = `ca.trust[${index}]`
      const target = path.resolve(directory, entry)
      const text = yield* fs.readFileString(target).pipe(
        Effect.mapError((error) =>
          new ConfigFileError({
            reason: "Trust",
            file,
            message: `${file}: ${at}: cannot read ${target}: ${
              error._tag === "SystemError" && error.reason === "NotFound" ? "no such file" : error.message
            }; give the path of a PEM file (relative to ${directory}) or the PEM text itself`
          })
        )
      )
      if (!/-----BEGIN CERTIFICATE-----/.test(text)) {
        return yield* new ConfigFileError({
          reason: "Trust",
          file,
          message: `${file}: ${at}: ${target} holds no PEM certificate (-----BEGIN CERTIFICATE-----); give a PEM file`
        })
      }
      return text
    }))

/**
 * Resolves what a decoded config points at: the EAB secrets (`{ env: NAME }` from the environment,
 * through Effect's `Config`), the `ca.trust` entries (PEM text, or files relative to `directory`),
 * and `storage.path` and each `webroot` (relative to `directory`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const resolve = (
  location: { readonly file: string; readonly path: string },
  config: RenewalConfig.RenewalConfig
): Effect.Effect<Loaded, ConfigFileError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const file = location.file
    const directory = path.dirname(location.path)
    const credentials = yield* resolveEab(file, config.ca.eab)
    const problems = CaPreset.check(config, { hasEab: Option.isSome(credentials) })
    if (problems.length > 0) {
      return yield* new ConfigFileError({
        reason: "Invalid",
        file,
        message: `${file}: ${problems.slice(0, 3).map((p) => `${formatPath(p.path)}: ${p.message}`).join("; ")}${
          problems.length > 3 ? `; and ${problems.length - 3} more problems` : ""
        }`
      })
    }
    const trust = yield* resolveTrust(file, directory, config.ca.trust)
    const storagePath = path.resolve(directory, config.storage.path)
    const certificates = Arr.map(config.certificates, (certificate) => {
      const challenge = certificate.challenge
      return challenge.type === "http-01" && challenge.webroot !== undefined
        ? { ...certificate, challenge: { ...challenge, webroot: path.resolve(directory, challenge.webroot) } }
        : certificate
    })
    const resolved: RenewalConfig.RenewalConfig = {
      ...config,
      ca: { ...config.ca, trust },
      storage: { ...config.storage, path: storagePath },
      certificates
    }
    return {
      file,
      path: location.path,
      directory,
      settings: { config: resolved, eab: credentials },
      trust,
      storagePath
    }
  })

/**
 * Finds, reads, parses, checks and resolves the configuration file.
 *
 * @since 0.1.0
 * @category constructors
 */
export const load = (
  flag: Option.Option<string>
): Effect.Effect<Loaded, ConfigFileError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const location = yield* locate(flag)
    const text = yield* fs.readFileString(location.path).pipe(Effect.mapError(readFailure(location)))
    const data = yield* parse(location.file, text)
    const config = yield* decode(location.file, data)
    return yield* resolve(location, config)
  })
