/**
 * What the Pebble harness reads and sends: Pebble's directory and certificate status as schemas,
 * the names challtestsrv stores, option checks, and its errors.
 */
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { PebbleError } from "../../PebbleError.js"

const Extra = Schema.Record({ key: Schema.String, value: Schema.Unknown })

const DirectoryMeta = Schema.Struct({
  termsOfService: Schema.optionalWith(Schema.String, { exact: true }),
  website: Schema.optionalWith(Schema.String, { exact: true }),
  caaIdentities: Schema.optionalWith(Schema.Array(Schema.String), { exact: true }),
  externalAccountRequired: Schema.optionalWith(Schema.Boolean, { exact: true }),
  profiles: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.String }), { exact: true })
}, Extra)

const Directory = Schema.Struct({
  newNonce: Schema.String,
  newAccount: Schema.String,
  newOrder: Schema.String,
  revokeCert: Schema.optionalWith(Schema.String, { exact: true }),
  keyChange: Schema.optionalWith(Schema.String, { exact: true }),
  newAuthz: Schema.optionalWith(Schema.String, { exact: true }),
  renewalInfo: Schema.optionalWith(Schema.String, { exact: true }),
  meta: Schema.optionalWith(DirectoryMeta, { exact: true })
}, Extra)

/** `GET /cert-status-by-serial/<serial>`; Go's `omitempty` drops a zero `Reason` and an empty `RevokedAt` */
const CertificateStatusJson = Schema.Struct({
  Status: Schema.Literal("Valid", "Revoked"),
  Serial: Schema.String,
  Certificate: Schema.String,
  Reason: Schema.optionalWith(Schema.Number, { exact: true }),
  RevokedAt: Schema.optionalWith(Schema.String, { exact: true })
})

/** @internal */
export const decodeDirectory = Schema.decodeUnknown(Schema.parseJson(Directory))
/** @internal */
export const decodeCertificateStatus = Schema.decodeUnknown(Schema.parseJson(CertificateStatusJson))

/** @internal */
export const management = (message: string) => new PebbleError({ reason: "Management", message })
/** @internal */
export const startFailed = (message: string) => new PebbleError({ reason: "StartFailed", message })

/** @internal */
export const oneLine = (text: string, max = 300): string => {
  const line = text.replace(/\s+/g, " ").trim()
  return line.length > max ? `${line.slice(0, max)}...` : line
}

/** @internal */
export const describeHttpError = (error: HttpClientError.HttpClientError): string => {
  const cause = error.cause
  if (cause instanceof Error) {
    const inner = cause.cause instanceof Error ? `: ${cause.cause.message}` : ""
    return `${cause.message}${inner}`
  }
  return error.message
}

/**
 * DNS names as challtestsrv stores them: lower case, fully qualified with a trailing dot
 *
 * @internal
 */
export const fqdn = (host: string): string => {
  const name = host.trim().toLowerCase()
  return name.endsWith(".") ? name : `${name}.`
}

/**
 * TLS SNI carries no trailing dot: challtestsrv matches tls-alpn-01 hosts against it verbatim
 *
 * @internal
 */
export const sniName = (host: string): string => host.trim().toLowerCase().replace(/\.+$/, "")

/**
 * `%x` of Go's big.Int: lower case, no leading zeros
 *
 * @internal
 */
export const normaliseSerial = (serial: string): Effect.Effect<string, PebbleError> => {
  const hex = serial.trim().toLowerCase().replace(/^0x/, "").replace(/[:\s]/g, "")
  return /^[0-9a-f]+$/.test(hex)
    ? Effect.succeed(hex.replace(/^0+(?=.)/, ""))
    : Effect.fail(management(`certificateStatus: ${JSON.stringify(serial)} is not a hexadecimal serial number`))
}

/** @internal */
export const isTruthyEnv = (value: string | undefined): boolean => value === "1" || value?.toLowerCase() === "true"

/** @internal */
export const checkCount = (name: string, value: number | undefined, max = Number.MAX_SAFE_INTEGER) =>
  value === undefined || (Number.isInteger(value) && value >= 0 && value <= max)
    ? Effect.void
    : Effect.fail(startFailed(`invalid option ${name}: ${value} (expected an integer from 0 to ${max})`))

/**
 * the parent's environment without any PEBBLE_* variable: only what the options say reaches Pebble
 *
 * @internal
 */
export const childEnvironment = (extra: Record<string, string>): Record<string, string> => {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith("PEBBLE_")) env[key] = value
  }
  return { ...env, ...extra }
}
