/**
 * scan: reads what is stored for each configured certificate and asks the CA for its renewal
 * window (ARI) when it offers one. Network: the directory (GET, kept in the state for the stages
 * after it) and renewalInfo (GET, only for certificates whose last answer's Retry-After has passed,
 * and once more at once for a window that cannot be followed: see `Renewal/renewalInfo.ts`).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { ProtocolError } from "../AcmeError.js"
import { AcmeProtocol } from "../AcmeProtocol.js"
import * as Directory from "../Directory.js"
import * as Identifier from "../Identifier.js"
import { RenewalSettings } from "../RenewalSettings.js"
import type { Bucket, Current } from "../RenewalState.js"
import type { CertificateName } from "../CertificateName.js"
import { type CertificateMetadata, Storage } from "../Storage.js"
import { renewalInfoFor } from "./renewalInfo.js"
import * as Stage from "./stage.js"

/** What is stored for a certificate, with its renewal window when the CA (the one it came from) offers ARI. */
const currentOf = (
  runId: string,
  stored: { readonly name: CertificateName; readonly metadata: CertificateMetadata },
  directoryUrl: string,
  directory: Option.Option<Directory.Directory>
) =>
  Effect.gen(function*() {
    const { metadata } = stored
    const ari = Option.filter(directory, Directory.supportsRenewalInfo)
    const certId = metadata.certId
    const asked = Option.isSome(ari) && metadata.directoryUrl === directoryUrl && certId !== undefined &&
      metadata.revokedAt === undefined
    const current: Current = {
      serialNumber: metadata.serialNumber,
      identifiers: metadata.identifiers,
      keyType: metadata.keyType,
      profile: metadata.profile,
      notBefore: metadata.notBefore,
      notAfter: metadata.notAfter,
      issuedAt: metadata.issuedAt,
      certId: metadata.certId,
      revokedAt: metadata.revokedAt,
      directoryUrl: metadata.directoryUrl,
      pendingDeploy: metadata.pendingDeploy,
      renewalInfo: asked ? yield* renewalInfoFor(runId, ari.value, stored, certId) : undefined
    }
    return current
  })

/**
 * @since 0.1.0
 * @category stages
 */
export const scan = Stage.fromFunction((state) =>
  Effect.gen(function*() {
    const settings = yield* RenewalSettings
    const storage = yield* Storage
    // without the CA, plan by lifetime; certificates that are due meet the error in their own stages,
    // where it is retried
    const directory = yield* Effect.flatMap(AcmeProtocol, (acme) => acme.directory).pipe(
      Effect.tapError((error: ProtocolError) =>
        Effect.logWarning(`cannot read the CA's directory (${error.message}); planning without renewal info`)
      ),
      Effect.option
    )
    // a few certificates at a time: the files of 10,000 are read while others are decoded (the
    // buckets keep the configuration's order)
    const buckets = yield* Effect.forEach(settings.config.certificates, (spec) =>
      Effect.gen(function*() {
        const identifiers = yield* Identifier.parseAll(spec.domains).pipe(Effect.orElseSucceed(() => []))
        // the metadata alone: no PEM is read (status reads 10,000 of them)
        const metadata = yield* storage.loadCertificateMetadata(spec.name)
        const current = Option.isSome(metadata)
          ? yield* currentOf(state.runId, { name: spec.name, metadata: metadata.value }, state.directoryUrl, directory)
          : undefined
        const bucket: Bucket = { name: spec.name, identifiers, stage: "account", current, attempts: 0 }
        return bucket
      }), { concurrency: 8 })
    return { ...state, directory: Option.getOrUndefined(directory), buckets, phase: "plan" as const }
  })
)
