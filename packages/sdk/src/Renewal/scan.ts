/**
 * scan: reads what is stored for each configured certificate and asks the CA for its renewal
 * window (ARI) when it offers one. Network: the directory (GET, kept in the state for the stages
 * after it) and renewalInfo (GET, only for certificates whose last answer's Retry-After has passed,
 * and once more at once for a window that cannot be followed: see `Renewal/renewalInfo.ts`).
 *
 * The directory is read only when a certificate has a renewalInfo request due, unless the CA was
 * seen without renewal info within the ARI check interval (`directorySeen` of an earlier run's
 * checkpoint, carried from run to run until it is that old): a run in which nothing is due and
 * nothing is to be asked makes no request at all. `acme status` reads it always (`scanWith`), since
 * it says whether the CA can be reached.
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { ProtocolError } from "../AcmeError.js"
import { AcmeProtocol } from "../AcmeProtocol.js"
import * as Directory from "../Directory.js"
import * as Identifier from "../Identifier.js"
import { RenewalSettings } from "../RenewalSettings.js"
import type { Bucket, Current, State } from "../RenewalState.js"
import { Storage } from "../Storage.js"
import * as EarlierRuns from "./earlierRuns.js"
import { DEFAULT_ARI_INTERVAL, renewalInfoFor, savedWindow, type Stored } from "./renewalInfo.js"
import * as Stage from "./stage.js"

type Seen = NonNullable<State["directorySeen"]>

/** Whether the CA would be asked about this certificate, when it offers renewal info. */
const askable = (stored: Stored, directoryUrl: string): stored is Stored & {
  readonly metadata: { readonly certId: string }
} =>
  stored.metadata.directoryUrl === directoryUrl && stored.metadata.certId !== undefined &&
  stored.metadata.revokedAt === undefined

/**
 * What stored certificate and its renewal window: the saved window while it holds; else asked of
 * the CA when its directory was read and offers ARI (`offered` says whether saved windows count).
 */
const currentOf = (
  runId: string,
  stored: Stored,
  directoryUrl: string,
  directory: Option.Option<Directory.Directory>,
  offered: boolean,
  now: DateTime.Utc
) =>
  Effect.gen(function*() {
    const { metadata } = stored
    const saved = offered && askable(stored, directoryUrl) ? savedWindow(stored, now) : undefined
    const ari = Option.filter(directory, Directory.supportsRenewalInfo)
    const renewalInfo = saved !== undefined
      ? saved
      : Option.isSome(ari) && askable(stored, directoryUrl)
      ? yield* renewalInfoFor(runId, ari.value, stored, stored.metadata.certId)
      : undefined
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
      renewalInfo
    }
    return current
  })

/** What an earlier run of this CA saw of its directory, while it is younger than the ARI check interval. */
const seenEarlier = (state: State, now: DateTime.Utc): Effect.Effect<Option.Option<Seen>, never, Storage> =>
  Effect.gen(function*() {
    for (const previous of yield* EarlierRuns.ofThisCa(state)) {
      const seen = previous.directorySeen
      if (seen === undefined) continue
      const fresh = Option.exists(
        DateTime.make(seen.fetchedAt),
        (at) => DateTime.lessThan(now, DateTime.addDuration(at, DEFAULT_ARI_INTERVAL)) && !DateTime.lessThan(now, at)
      )
      return fresh ? Option.some(seen) : Option.none()
    }
    return Option.none<Seen>()
  }).pipe(Effect.orElseSucceed(() => Option.none<Seen>()))

/**
 * @since 0.1.0
 * @category models
 */
export interface ScanOptions {
  /** read the CA's directory in any case (`acme status`), or only when a renewalInfo request is due */
  readonly directory: "always" | "whenNeeded"
}

/**
 * scan, reading the directory always or only when needed (see the module).
 *
 * @since 0.1.0
 * @category stages
 */
export const scanWith = (options: ScanOptions) =>
  Stage.fromFunction((state) =>
    Effect.gen(function*() {
      const settings = yield* RenewalSettings
      const storage = yield* Storage
      const now = yield* DateTime.now
      // a few certificates at a time: the files of 10,000 are read while others are decoded (the
      // buckets keep the configuration's order)
      const loaded = yield* Effect.forEach(settings.config.certificates, (spec) =>
        Effect.gen(function*() {
          const identifiers = yield* Identifier.parseAll(spec.domains).pipe(Effect.orElseSucceed(() => []))
          const metadata = yield* storage.loadCertificateMetadata(spec.name)
          return { spec, identifiers, stored: Option.map(metadata, (metadata): Stored => ({ name: spec.name, metadata })) }
        }), { concurrency: 8 })
      const asking = loaded.some(({ stored }) =>
        Option.isSome(stored) && askable(stored.value, state.directoryUrl) && savedWindow(stored.value, now) === undefined
      )
      const seen = options.directory === "whenNeeded" && asking ? yield* seenEarlier(state, now) : Option.none<Seen>()
      const read = options.directory === "always" || (asking && !Option.exists(seen, (s) => !s.renewalInfo))
      // without the CA, plan by lifetime; certificates that are due meet the error in their own stages,
      // where it is retried
      const directory = read
        ? yield* Effect.flatMap(AcmeProtocol, (acme) => acme.directory).pipe(
          Effect.tapError((error: ProtocolError) =>
            Effect.logWarning(`cannot read the CA's directory (${error.message}); planning without renewal info`)
          ),
          Effect.option
        )
        : Option.none<Directory.Directory>()
      // saved windows count when the CA offers ARI, or when nothing had to be asked (the CA is not
      // asked again before a saved answer's Retry-After)
      const offered = read ? Option.exists(directory, Directory.supportsRenewalInfo) : !asking
      const buckets = yield* Effect.forEach(loaded, ({ identifiers, spec, stored }) =>
        Effect.gen(function*() {
          const current = Option.isSome(stored)
            ? yield* currentOf(state.runId, stored.value, state.directoryUrl, directory, offered, now)
            : undefined
          const bucket: Bucket = { name: spec.name, identifiers, stage: "account", current, attempts: 0 }
          return bucket
        }), { concurrency: 8 })
      const directorySeen: Seen | undefined = Option.match(directory, {
        onNone: () => Option.getOrUndefined(seen),
        onSome: (read) => ({ fetchedAt: DateTime.formatIso(now), renewalInfo: Directory.supportsRenewalInfo(read) })
      })
      return { ...state, directory: Option.getOrUndefined(directory), directorySeen, buckets, phase: "plan" as const }
    })
  )

/**
 * @since 0.1.0
 * @category stages
 */
export const scan = scanWith({ directory: "whenNeeded" })
