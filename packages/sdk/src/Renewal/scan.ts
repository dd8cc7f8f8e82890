/**
 * scan: reads what is stored for each configured certificate and asks the CA for its renewal
 * window (ARI) when it offers one. Network: the directory (GET) and renewalInfo (GET, only for
 * certificates whose last answer's Retry-After has passed).
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { ProtocolError } from "../AcmeError.js"
import { AcmeProtocol } from "../AcmeProtocol.js"
import * as Certificate from "../Certificate.js"
import * as Directory from "../Directory.js"
import * as Identifier from "../Identifier.js"
import type { Bucket, Current, State } from "../RenewalState.js"
import { type StoredCertificate, Storage, type StorageError } from "../Storage.js"
import { RenewalSettings } from "./context.js"

/** When the CA does not say how long its renewal info holds: RFC 9773 suggests checking twice a day. */
const DEFAULT_ARI_INTERVAL = Duration.hours(6)

const renewalInfoFor = (
  directory: Directory.Directory,
  stored: StoredCertificate
): Effect.Effect<Current["renewalInfo"], never, AcmeProtocol | Storage> =>
  Effect.gen(function*() {
    const metadata = stored.metadata
    const now = yield* DateTime.now
    const cached = metadata.renewalInfo
    if (cached !== undefined && Option.exists(DateTime.make(cached.nextCheckAt), (at) => DateTime.lessThan(now, at))) {
      return { start: cached.start, end: cached.end, explanationURL: cached.explanationURL }
    }
    const acme = yield* AcmeProtocol
    const storage = yield* Storage
    const fetched = yield* Certificate.parseChain(stored.fullchainPem).pipe(
      Effect.flatMap((chain) => acme.renewalInfo({ directory, certificate: chain.certificates[0] })),
      Effect.option
    )
    if (Option.isNone(fetched)) {
      yield* Effect.logWarning(`${stored.name}: the CA's renewalInfo could not be read; planning by lifetime`)
      return undefined
    }
    const info = fetched.value
    const window = {
      start: DateTime.formatIso(info.suggestedWindow.start),
      end: DateTime.formatIso(info.suggestedWindow.end),
      explanationURL: info.explanationURL
    }
    const nextCheckAt = DateTime.addDuration(now, info.retryAfter ?? DEFAULT_ARI_INTERVAL)
    yield* storage.updateMetadata(stored.name, {
      ...metadata,
      renewalInfo: { ...window, fetchedAt: DateTime.formatIso(now), nextCheckAt: DateTime.formatIso(nextCheckAt) }
    }).pipe(Effect.catchAll((error) => Effect.logWarning(error.message)))
    return window
  })

/**
 * @since 0.1.0
 * @category stages
 */
export const scan = (state: State): Effect.Effect<State, StorageError, AcmeProtocol | Storage | RenewalSettings> =>
  Effect.gen(function*() {
    const settings = yield* RenewalSettings
    const storage = yield* Storage
    const acme = yield* AcmeProtocol
    // without the CA, plan by lifetime; certificates that are due meet the error in their own stages,
    // where it is retried
    const directory = yield* acme.directory.pipe(
      Effect.tapError((error: ProtocolError) =>
        Effect.logWarning(`cannot read the CA's directory (${error.message}); planning without renewal info`)
      ),
      Effect.option
    )
    const ari = Option.exists(directory, Directory.supportsRenewalInfo)
    // a few certificates at a time: the files of 10,000 are read while others are decoded (the
    // buckets keep the configuration's order)
    const buckets = yield* Effect.forEach(settings.config.certificates, (spec) =>
      Effect.gen(function*() {
      const identifiers = yield* Identifier.parseAll(spec.domains).pipe(Effect.orElseSucceed(() => []))
      const stored = yield* storage.loadCertificate(spec.name)
      const current: Current | undefined = yield* Option.match(stored, {
        onNone: () => Effect.succeed(undefined),
        onSome: (certificate) =>
          Effect.gen(function*() {
            const metadata = certificate.metadata
            const sameCa = metadata.directoryUrl === state.directoryUrl
            const renewalInfo = Option.isSome(directory) && ari && sameCa && metadata.certId !== undefined &&
                metadata.revokedAt === undefined
              ? yield* renewalInfoFor(directory.value, certificate)
              : undefined
            return {
              serialNumber: metadata.serialNumber,
              identifiers: metadata.identifiers,
              keyType: metadata.keyType,
              profile: metadata.profile,
              notBefore: metadata.notBefore,
              notAfter: metadata.notAfter,
              certId: metadata.certId,
              revokedAt: metadata.revokedAt,
              directoryUrl: metadata.directoryUrl,
              renewalInfo
            }
          })
      })
      const bucket: Bucket = { name: spec.name, identifiers, stage: "account", current, attempts: 0 }
      return bucket
    }), { concurrency: 8 })
    return { ...state, directory: Option.getOrUndefined(directory), buckets, phase: "plan" as const }
  })
