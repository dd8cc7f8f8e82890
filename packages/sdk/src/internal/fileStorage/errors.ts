/**
 * Platform errors as StorageErrors: a read-only or full file system named as such, a file that
 * does not decode named as corrupt.
 */
import type * as PlatformError from "@effect/platform/Error"
import * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import { StorageError } from "../../StorageError.js"

const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, " ").trim()

const errnoCode = (error: PlatformError.PlatformError): string | undefined => {
  if (error._tag !== "SystemError") return undefined
  if (Predicate.hasProperty(error.cause, "code") && typeof error.cause.code === "string") return error.cause.code
  return /\b(EACCES|EPERM|EROFS|ENOSPC|EDQUOT)\b/.exec(error.description ?? "")?.[1]
}

/** @internal */
export const isNotFound = (error: PlatformError.PlatformError): boolean =>
  error._tag === "SystemError" && error.reason === "NotFound"

const describePlatformError = (error: PlatformError.PlatformError): string =>
  oneLine(
    error._tag === "SystemError"
      ? error.description ?? `${error.reason} (${error.method})`
      : error.description ?? `bad argument to ${error.method}`
  )

/**
 * A PlatformError as a StorageError about `path`.
 *
 * @internal
 */
export const storageError = (path: string) => (error: PlatformError.PlatformError): StorageError => {
  const code = errnoCode(error)
  const readOnly = error._tag === "SystemError" &&
    (error.reason === "PermissionDenied" || code === "EACCES" || code === "EPERM" || code === "EROFS")
  const full = code === "ENOSPC" || code === "EDQUOT"
  return new StorageError({
    reason: full ? "Full" : readOnly ? "ReadOnly" : "Io",
    path,
    description: code === "EROFS"
      ? `its file system is mounted read-only: ${describePlatformError(error)}`
      : code === "ENOSPC"
      ? `no space left on the device: ${describePlatformError(error)}`
      : code === "EDQUOT"
      ? `the disk quota is used up: ${describePlatformError(error)}`
      : describePlatformError(error)
  })
}

/** @internal */
export const corrupt = (path: string, description: string): StorageError =>
  new StorageError({ reason: "Corrupt", path, description })

/** @internal */
export const describeParseError = (error: ParseResult.ParseError): string => {
  const issue = ParseResult.ArrayFormatter.formatErrorSync(error)[0]
  return issue === undefined
    ? oneLine(error.message)
    : oneLine(issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message)
}
