/**
 * Revocation: its own program, not a branch of renewal.
 *
 * ```
 * account -> for each certificate: revoke -> report
 * ```
 *
 * Best effort: a certificate that cannot be revoked is reported as failed and the loop goes on;
 * there is no retry stage (a refusal is a matter of policy that retrying will not change). Each
 * revocation is signed by the account, or by the certificate's own key when asked (or when there is
 * no account). A revoked certificate is marked in its metadata, so the next `renew` replaces it.
 *
 * Each certificate is revoked under a lease on it, like a renewal: one that a run is renewing is
 * left alone (reported failed, to be revoked once that run is done), and the metadata is written
 * only while the lease is held.
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type { AccountRef } from "./Account.js"
import * as AccountKey from "./AccountKey.js"
import { KeyError, type ProtocolError } from "./AcmeError.js"
import { AcmeProtocol, signedByAccount, signedByCertificateKey } from "./AcmeProtocol.js"
import * as Certificate from "./Certificate.js"
import * as CertificateKey from "./CertificateKey.js"
import type { CertificateName } from "./CertificateName.js"
import type { Directory } from "./Directory.js"
import type { Nonce } from "./Nonce.js"
import type { LeaseError } from "./Lease.js"
import { newRunId } from "./Renewal/context.js"
import { briefly, describeHolder } from "./Renewal/lease.js"
import { directoryUrl as configuredDirectoryUrl, RenewalSettings } from "./RenewalSettings.js"
import { type CertificateReport, type RunReport, withCounts } from "./Reporter.js"
import type { RevocationReason } from "./RevocationReason.js"
import { type FencedWrites, Storage, type StorageError } from "./Storage.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly names: ReadonlyArray<CertificateName>
  readonly reason?: RevocationReason | undefined
  /** who signs: the account (default), or each certificate's own key */
  readonly signer?: "account" | "certificateKey" | undefined
}

/** The account, when there is one: revocation signed by the certificate key needs none. */
const account = (directoryUrl: string) =>
  Effect.gen(function*() {
    const settings = yield* RenewalSettings
    const storage = yield* Storage
    const stored = yield* storage.loadAccount(directoryUrl, settings.config.account.name)
    if (Option.isNone(stored)) return Option.none<AccountRef>()
    const info = stored.value.info
    if (Option.isNone(info)) return Option.none<AccountRef>()
    const key = yield* AccountKey.fromPem(stored.value.keyPem)
    return Option.some({ key, url: info.value.url })
  })

const failed = (name: string, reason: string, type: string): CertificateReport => ({
  name,
  domains: [],
  action: "failed",
  reason,
  error: { type, message: reason, stage: "revoke" }
})

const revokeOne = (
  name: CertificateName,
  writes: FencedWrites,
  directory: Directory,
  nonce: Nonce,
  signer: Option.Option<AccountRef>,
  options: Options
): Effect.Effect<
  { readonly report: CertificateReport; readonly nonce: Nonce | undefined },
  StorageError | LeaseError,
  AcmeProtocol | Storage
> =>
  Effect.gen(function*() {
    const acme = yield* AcmeProtocol
    const storage = yield* Storage
    const stored = yield* storage.loadCertificate(name)
    if (Option.isNone(stored)) {
      return { report: failed(name, `there is no certificate named "${name}" in storage`, "NotFound"), nonce }
    }
    const { metadata } = stored.value
    const base = {
      name,
      domains: metadata.identifiers.map((identifier) => identifier.value),
      serial: metadata.serialNumber,
      notAfter: metadata.notAfter,
      paths: (({ cert, chain, fullchain, privkey }) => ({ cert, chain, fullchain, privkey }))(stored.value.paths)
    }
    const attempt = Effect.gen(function*() {
      const leaf = Certificate.leaf(yield* Certificate.parseChain(stored.value.fullchainPem))
      const byKey = Effect.flatMap(storage.loadCertificateKey(name), (pem) =>
        Option.match(pem, {
          onNone: () =>
            Effect.fail(new KeyError({ reason: "Import", description: `the private key of "${name}" is not in storage` })),
          onSome: (text) => Effect.map(CertificateKey.fromPem(text), signedByCertificateKey)
        }))
      const revocationSigner = options.signer === "certificateKey"
        ? yield* byKey
        : yield* Option.match(signer, { onNone: () => byKey, onSome: (ref) => Effect.succeed(signedByAccount(ref)) })
      return yield* acme.revokeCertificate({
        directory,
        nonce,
        certificate: leaf,
        reason: options.reason,
        signer: revocationSigner
      })
    })
    const outcome = yield* Effect.either(attempt)
    const now = DateTime.formatIso(yield* DateTime.now)
    const already = outcome._tag === "Left" && outcome.left._tag === "AlreadyRevoked"
    if (outcome._tag === "Right" || already) {
      yield* writes.updateMetadata({
        ...metadata,
        revokedAt: metadata.revokedAt ?? now,
        revocationReason: options.reason ?? "unspecified"
      })
      return {
        report: {
          ...base,
          action: "revoked",
          reason: already ? "it was already revoked" : `revoked (${options.reason ?? "unspecified"})`
        },
        nonce: outcome._tag === "Right" ? outcome.right.nonce : undefined
      }
    }
    const error: ProtocolError | StorageError = outcome.left
    return {
      report: { ...failed(name, error.message, error._tag), ...base, action: "failed" as const },
      nonce: undefined
    }
  })

/**
 * The revocation program.
 *
 * @since 0.1.0
 * @category programs
 */
export const revoke = (
  options: Options
): Effect.Effect<RunReport, StorageError | ProtocolError, AcmeProtocol | Storage | RenewalSettings> =>
  Effect.gen(function*() {
    const acme = yield* AcmeProtocol
    const runId = yield* newRunId
    const directoryUrl = yield* configuredDirectoryUrl
    const directory = yield* acme.directory
    const signer = yield* account(directoryUrl)
    if (options.signer !== "certificateKey" && Option.isNone(signer)) {
      yield* Effect.logInfo("no account is stored for this CA; signing with each certificate's own key")
    }
    const reports: Array<CertificateReport> = []
    let nonce: Nonce | undefined = undefined
    for (const name of options.names) {
      const next: Nonce = nonce ?? (yield* acme.newNonce(directory))
      const result = yield* briefly(runId, name, (writes) => revokeOne(name, writes, directory, next, signer, options)).pipe(
        Effect.flatMap(Either.match({
          onLeft: (held) =>
            Effect.map(
              held.holder === undefined ? Effect.succeed("another run") : describeHolder(held.holder),
              (by) => ({
                report: failed(name, `${name} is being renewed by ${by}; revoke it once that run is done`, "LeaseError"),
                nonce: next
              })
            ),
          onRight: Effect.succeed
        })),
        // the lease was lost while the CA was asked (this process was paused past its expiry)
        Effect.catchTag("LeaseError", (error) =>
          Effect.succeed({ report: failed(name, error.message, error._tag), nonce: undefined }))
      )
      reports.push(result.report)
      nonce = result.nonce
    }
    return withCounts({
      version: 1 as const,
      command: "revoke" as const,
      runId,
      directoryUrl,
      resumed: false,
      dryRun: false,
      certificates: reports
    })
  }).pipe(Effect.withSpan("Revocation.revoke"))
