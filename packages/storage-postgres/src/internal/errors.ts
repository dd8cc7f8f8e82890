/**
 * Errors of the database as the SDK's `StorageError`, about the storage's location (the URL without
 * its password).
 */
import { StorageError } from "@acme/sdk/Storage"
import { SqlError } from "@effect/sql/SqlError"
import * as Effect from "effect/Effect"
import * as Predicate from "effect/Predicate"

const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, " ").trim()

/** `postgres://user@host:port/database`: the URL without password or query */
export const describeUrl = (url: string): string => {
  if (!URL.canParse(url)) return "postgres (an unparsable URL)"
  const parsed = new URL(url)
  const user = parsed.username === "" ? "" : `${decodeURIComponent(parsed.username)}@`
  return `${parsed.protocol}//${user}${parsed.host}${parsed.pathname}`
}

const causeOf = (error: SqlError): string => {
  const cause = error.cause
  if (Predicate.hasProperty(cause, "message") && typeof cause.message === "string" && cause.message.length > 0) {
    const code = Predicate.hasProperty(cause, "code") && typeof cause.code === "string" ? ` (${cause.code})` : ""
    return `${cause.message}${code}`
  }
  return "no details"
}

/** A database error as a StorageError: `Full` for a full disk (SQLSTATE 53100), `ReadOnly` for a read-only one */
export const storageError = (location: string, what: string) => (error: SqlError): StorageError => {
  const code = Predicate.hasProperty(error.cause, "code") ? error.cause.code : undefined
  return new StorageError({
    reason: code === "53100" ? "Full" : code === "25006" || code === "42501" ? "ReadOnly" : "Io",
    path: location,
    description: oneLine(`${what}: ${error.message}: ${causeOf(error)}`)
  })
}

export const corrupt = (location: string, description: string): StorageError =>
  new StorageError({ reason: "Corrupt", path: location, description })

/** Maps the effect's `SqlError` (and only it) to a StorageError about `what`. */
export const mapSqlError = (location: string, what: string) =>
<A, E, R>(effect: Effect.Effect<A, E | SqlError, R>): Effect.Effect<A, Exclude<E, SqlError> | StorageError, R> =>
  Effect.catchIf(
    effect,
    (error: E | SqlError): error is SqlError => error instanceof SqlError,
    (error) => Effect.fail(storageError(location, what)(error))
  )
