/**
 * The configuration file: where it is, how it is read (YAML; JSON is YAML), how it is checked
 * (`FileConfig`: the SDK's `RenewalConfig` with `ca.trust` and a required `storage`), and how what
 * it points at is resolved (secrets from the environment, trusted roots from files, paths relative
 * to the file's folder).
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
import { CaPreset, type RenewalConfig, type RenewalSettings } from "@acme/sdk"
import type * as ServerConfig from "@acme/server/ServerConfig"
import { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Array as Arr, Config, Effect, Either, Option, ParseResult, Redacted, Schema } from "effect"
import * as YAML from "yaml"
import { ConfigFileError } from "./CliError.js"
import { describeIssues, formatPath } from "./ConfigIssues.js"
import { FileConfig } from "./FileConfig.js"
import * as Registry from "./Registry.js"

export {
  /** @since 0.1.0 */
  describeIssues,
  /** @since 0.1.0 */
  formatPath
} from "./ConfigIssues.js"

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
  readonly settings: RenewalSettings.Settings
  /** PEM text of each `ca.trust` entry */
  readonly trust: ReadonlyArray<string>
  /** the absolute storage folder (of `type: file` storage) */
  readonly storagePath: string | undefined
  /** the providers the configuration names, found and with their options checked */
  readonly providers: Registry.Providers
  /** the `server` section (`acme serve`), defaults filled in */
  readonly server: ServerConfig.ServerConfig
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

/** every JSON string token, and whether a `:` follows it (then it is a key) */
const jsonStrings = /"(?:[^"\\]|\\.)*"(\s*:)?/g

/** the number of keys of every object in a parsed JSON value */
const keyCount = (value: unknown): number =>
  Array.isArray(value)
    ? value.reduce((sum: number, item: unknown) => sum + keyCount(item), 0)
    : typeof value === "object" && value !== null
    ? Object.values(value).reduce((sum: number, item: unknown) => sum + keyCount(item), Object.keys(value).length)
    : 0

/**
 * Text that is JSON, read by `JSON.parse` (about 20 times faster than the YAML parser on a
 * configuration of 10,000 certificates) when no object in it repeats a key: `JSON.parse` would keep
 * the last one without a word, so then (and for any text that is not JSON) the YAML parser reads
 * it and reports the repeated key. A key repeated makes fewer keys in the parsed value than key
 * tokens in the text (JSON.parse has checked the syntax, so every string token is found in turn).
 */
const parseJson = (text: string): Option.Option<unknown> => {
  if (!/^\s*[{[]/.test(text)) return Option.none()
  return Either.try(() => JSON.parse(text) as unknown).pipe(
    Either.getRight,
    Option.filter((value) => {
      let keys = 0
      for (const match of text.matchAll(jsonStrings)) if (match[1] !== undefined) keys++
      return keys === keyCount(value)
    })
  )
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
  const json = parseJson(text)
  if (Option.isSome(json)) return Either.right(json.value)
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

/**
 * Checks parsed data against `FileConfig` (`RenewalConfig.RenewalConfig` and the `server` section of
 * `acme serve`; unknown keys are errors: a misspelt key would otherwise be ignored without a word).
 *
 * @since 0.1.0
 * @category parsing
 */
export const decode = (
  file: string,
  data: unknown
): Either.Either<FileConfig, ConfigFileError> =>
  Schema.decodeUnknownEither(FileConfig, { errors: "all", onExcessProperty: "error" })(data).pipe(
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
): Effect.Effect<RenewalSettings.Settings["eab"], ConfigFileError> =>
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
  config: FileConfig
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
    const storagePath = config.storage.path !== undefined ? path.resolve(directory, config.storage.path) : undefined
    const certificates = Arr.map(config.certificates, (certificate) => {
      const challenge = certificate.challenge
      return challenge.type === "http-01" && challenge.webroot !== undefined
        ? { ...certificate, challenge: { ...challenge, webroot: path.resolve(directory, challenge.webroot) } }
        : certificate
    })
    const resolved: FileConfig = {
      ...config,
      ca: { ...config.ca, trust },
      storage: storagePath !== undefined ? { ...config.storage, path: storagePath } : config.storage,
      certificates
    }
    const providers = yield* Registry.resolveProviders({ file, directory, config: resolved })
    return {
      file,
      path: location.path,
      directory,
      settings: { config: resolved, eab: credentials },
      trust,
      storagePath,
      providers,
      server: config.server
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
