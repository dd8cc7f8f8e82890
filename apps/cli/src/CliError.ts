/**
 * The errors of the `acme` command itself, and how any failure becomes one line on stderr and an
 * exit code:
 *
 * | exit code | when |
 * | --- | --- |
 * | 0 | nothing failed |
 * | 1 | a certificate failed, or the run did (the CA, storage, a challenge, ...) |
 * | 2 | the command line or the configuration file is wrong |
 *
 * @since 0.1.0
 */
import * as ValidationError from "@effect/cli/ValidationError"
import * as HelpDoc from "@effect/cli/HelpDoc"
import { stripVTControlCharacters } from "node:util"
import * as Cause from "effect/Cause"
import * as Data from "effect/Data"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"

/**
 * The configuration file is missing, unreadable or invalid. `message` names the file and the path
 * of the bad value and says how to fix it.
 *
 * @since 0.1.0
 * @category errors
 */
export class ConfigFileError extends Data.TaggedError("ConfigFileError")<{
  readonly reason: "NotFound" | "Unreadable" | "Syntax" | "Invalid" | "Secret" | "Trust"
  readonly file: string
  readonly message: string
}> {}

/**
 * The command line asks for something the command refuses (a missing `--yes`, a file that exists).
 *
 * @since 0.1.0
 * @category errors
 */
export class UsageError extends Data.TaggedError("UsageError")<{
  readonly message: string
  readonly hint?: string | undefined
}> {}

/**
 * A run finished, its report is printed, and some certificates failed or were postponed to the next
 * run (or the run stopped at its time budget): exit code 1.
 *
 * @since 0.1.0
 * @category errors
 */
export class CertificatesFailed extends Data.TaggedError("CertificatesFailed")<{
  readonly failed: ReadonlyArray<string>
  readonly postponed?: ReadonlyArray<string> | undefined
  readonly total: number
}> {
  override get message(): string {
    const postponed = this.postponed ?? []
    const of = `${this.total} certificate${this.total === 1 ? "" : "s"}`
    const failed = `${this.failed.length} of ${of} failed (${this.failed.join(", ")})`
    const later = `${postponed.length} of ${of} postponed to the next run (${postponed.join(", ")})`
    if (postponed.length === 0) {
      return this.failed.length === 0
        ? "the run stopped at its time budget before every certificate was done; the report says what is left"
        : `${failed}; the report says why`
    }
    return `${this.failed.length === 0 ? later : `${failed}, ${later}`}; the report says why`
  }
}

/**
 * `acme doctor` printed its report, and some checks failed: exit code 1.
 *
 * @since 0.1.0
 * @category errors
 */
export class ChecksFailed extends Data.TaggedError("ChecksFailed")<{
  readonly failed: number
  readonly total: number
}> {
  override get message(): string {
    return `${this.failed} of ${this.total} check${this.total === 1 ? "" : "s"} failed; each says how to fix it`
  }
}

/**
 * `renew --dry-run` found the storage folder not writable: the real run would fail (exit code 1).
 *
 * @since 0.1.0
 * @category errors
 */
export class StorageNotWritable extends Data.TaggedError("StorageNotWritable")<{
  readonly storage: string
  readonly path: string
  readonly reason: string
}> {
  override get message(): string {
    return `the storage ${this.storage} is not writable (${this.path}: ${this.reason}): a real run would fail there; make the storage folder (storage.path) writable for the user running acme, and remount its file system read-write if it is mounted read-only`
  }
}

/**
 * The errors that mean "the command line or the configuration is wrong" (exit code 2).
 *
 * @since 0.1.0
 * @category guards
 */
export const isUsageFailure = (error: unknown): boolean =>
  ValidationError.isValidationError(error) ||
  (Predicate.isTagged(error, "ConfigFileError") || Predicate.isTagged(error, "UsageError") ||
    Predicate.isTagged(error, "PluginError"))

/**
 * @since 0.1.0
 * @category models
 */
export interface Failure {
  /** one line, without the `acme: ` prefix */
  readonly line: string
  readonly exitCode: 1 | 2
  /** the `_tag` of the error, or "Defect" */
  readonly type: string
  /** a report was printed already (its failures are the failure) */
  readonly reported: boolean
}

const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, " ").trim()

const messageOf = (error: unknown): string => {
  if (ValidationError.isValidationError(error)) {
    const text = oneLine(stripVTControlCharacters(HelpDoc.toAnsiText(error.error)))
    // an option's Schema (`Options.withSchema`) failed: its innermost message says what was wrong,
    // the tree of Schema names above it does not
    const innermost = text.split("└─ ").at(-1)?.trim() ?? ""
    return text.includes("└─ ") && innermost.length > 0 ? innermost : text.length > 0 ? text : "invalid command line"
  }
  if (Predicate.hasProperty(error, "message") && typeof error.message === "string" && error.message.length > 0) {
    return oneLine(error.message)
  }
  return oneLine(String(error))
}

const hintOf = (error: unknown): string | undefined => {
  if (ValidationError.isValidationError(error)) return "see `acme --help` or `acme <command> --help`"
  if (Predicate.hasProperty(error, "hint") && typeof error.hint === "string" && error.hint.length > 0) {
    return error.hint
  }
  return undefined
}

/**
 * What to print and which exit code to use for a failed command.
 *
 * @since 0.1.0
 * @category constructors
 */
export const describe = <E>(cause: Cause.Cause<E>): Failure => {
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) {
    const error: unknown = failure.value
    const hint = hintOf(error)
    const message = messageOf(error)
    return {
      line: hint === undefined ? message : `${message}; ${hint}`,
      exitCode: isUsageFailure(error) ? 2 : 1,
      type: Predicate.hasProperty(error, "_tag") && typeof error._tag === "string" ? error._tag : "Error",
      reported: Predicate.isTagged(error, "CertificatesFailed") || Predicate.isTagged(error, "ChecksFailed")
    }
  }
  const defect = Cause.dieOption(cause)
  const what = Option.match(defect, { onNone: () => "the command was interrupted", onSome: messageOf })
  return {
    line: Option.isSome(defect) ? `internal error: ${what}; please report it` : what,
    exitCode: 1,
    type: "Defect",
    reported: false
  }
}
