/**
 * The names a storage turns into paths: certificate names, CA folders and pending key references,
 * each checked before it touches a path.
 */
import * as Effect from "effect/Effect"
import { runOfKey } from "../../Lease.js"
import * as CertificateName from "../../CertificateName.js"
import { StorageError } from "../../StorageError.js"

/**
 * Whether a certificate name is safe as a path segment (no separators, no `..`, no control
 * characters). Checked again by every Storage before a name touches a path.
 *
 * @since 0.1.0
 * @category guards
 */
export const isSafeName: (name: string) => name is CertificateName.CertificateName = CertificateName.is

/**
 * Fails with InvalidName unless `isSafeName`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const checkName = (name: string): Effect.Effect<CertificateName.CertificateName, StorageError> =>
  isSafeName(name)
    ? Effect.succeed(name)
    : Effect.fail(
      new StorageError({
        reason: "InvalidName",
        path: name,
        description: CertificateName.describeInvalid(name)
      })
    )

/**
 * A folder-safe name for a CA: its host and port, e.g. `acme-v02.api.letsencrypt.org` or
 * `127.0.0.1_14000`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const caFolder = (directoryUrl: string): string => {
  const url = URL.canParse(directoryUrl) ? new URL(directoryUrl) : undefined
  const host = url === undefined ? "unknown" : url.port === "" ? url.hostname : `${url.hostname}_${url.port}`
  return host.replace(/[^A-Za-z0-9._-]/g, "_")
}

/**
 * A pending key reference is `pending/<safe name>` and nothing else.
 *
 * @internal
 */
export const checkPendingReference = (reference: string): Effect.Effect<string, StorageError> =>
  /^pending\/[A-Za-z0-9_-][A-Za-z0-9._-]{0,200}$/.test(reference) && !reference.includes("..")
    ? Effect.succeed(reference)
    : Effect.fail(
      new StorageError({ reason: "InvalidName", path: reference, description: `"${reference}" is not a pending key reference` })
    )

/**
 * Fails with InvalidName unless the lease key is a certificate name or a run's key
 * (`@run.<run id>`, see `Lease.runKey`).
 *
 * @since 0.1.0
 * @category combinators
 */
export const checkLeaseKey = (key: string): Effect.Effect<string, StorageError> => {
  const runId = runOfKey(key)
  return runId === undefined ? checkName(key) : Effect.as(checkName(runId), key)
}
