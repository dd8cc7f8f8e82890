/**
 * The CA's renewal window (ARI, RFC 9773) for a stored certificate, as scan asks for it: the saved
 * answer until its Retry-After has passed, else one GET of renewalInfo by the CertID kept at issuance
 * (once more at once for a window that cannot be followed), kept in the certificate's metadata under
 * a short lease.
 */
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { AcmeProtocol } from "../AcmeProtocol.js"
import type { CertificateName } from "../CertificateName.js"
import type * as Directory from "../Directory.js"
import * as RenewalInfo from "../RenewalInfo.js"
import { type StoredCertificate, Storage } from "../Storage.js"
import { briefly } from "./lease.js"

/** When the CA does not say how long its renewal info holds: RFC 9773 suggests checking twice a day. */
export const DEFAULT_ARI_INTERVAL = Duration.hours(6)

type Window = { readonly start: string; readonly end: string; readonly explanationURL?: string | undefined }

const sameWindow = (a: Window, b: Window) => a.start === b.start && a.end === b.end

/** One GET of renewalInfo, as the window and when to ask again (the answer's Retry-After), or None. */
const fetchRenewalInfo = (directory: Directory.Directory, certId: string) =>
  Effect.gen(function*() {
    const acme = yield* AcmeProtocol
    // the CertID stored at issuance: no certificate to parse
    const fetched = yield* acme.renewalInfo({ directory, certificate: { certId } }).pipe(Effect.option)
    return Option.map(fetched, ({ explanationURL, retryAfter, suggestedWindow }) => ({
      window: { start: DateTime.formatIso(suggestedWindow.start), end: DateTime.formatIso(suggestedWindow.end), explanationURL },
      retryAfter: retryAfter ?? DEFAULT_ARI_INTERVAL
    }))
  })

/** what a scan reads of a stored certificate: its metadata alone (no PEM: status reads 10,000 of them) */
export interface Stored {
  readonly name: CertificateName
  readonly metadata: StoredCertificate["metadata"]
}

/**
 * Keeps the CA's answer in the certificate's metadata, under a short lease on it and only while the
 * stored certificate is still the one asked about; a certificate another run holds is left to it.
 */
const keepRenewalInfo = (
  runId: string,
  stored: Stored,
  renewalInfo: NonNullable<StoredCertificate["metadata"]["renewalInfo"]>
) =>
  Effect.gen(function*() {
    const storage = yield* Storage
    const kept = yield* briefly(runId, stored.name, (writes) =>
      Effect.gen(function*() {
        const now = yield* storage.loadCertificateMetadata(stored.name)
        if (Option.isNone(now) || now.value.serialNumber !== stored.metadata.serialNumber) return
        yield* writes.updateMetadata({ ...now.value, renewalInfo })
      }))
    if (Either.isLeft(kept)) yield* Effect.logDebug(`${stored.name}: renewalInfo not kept (${kept.left.message})`)
  }).pipe(Effect.catchAll((error) => Effect.logWarning(error.message)))

/**
 * The saved answer of the CA, when it is still the one to go by (before its Retry-After: a window
 * that can be followed, or one already asked again and set aside); undefined when the CA is to be
 * asked.
 */
export const savedWindow = (stored: Stored, now: DateTime.Utc): Window | undefined => {
  const cached = stored.metadata.renewalInfo
  if (cached === undefined || !Option.exists(DateTime.make(cached.nextCheckAt), (at) => DateTime.lessThan(now, at))) {
    return undefined
  }
  const window = { start: cached.start, end: cached.end, explanationURL: cached.explanationURL }
  return Option.isNone(RenewalInfo.windowProblem(window, stored.metadata)) || cached.ignored !== undefined
    ? window
    : undefined
}

/**
 * The CA's window for a stored certificate: the saved answer until its Retry-After has passed,
 * else a new one. A window that cannot be followed (`RenewalInfo.windowProblem`: stale or absurd)
 * is asked for once more at once, since a cache may have served it; when the CA gives it again it is
 * saved as ignored (with why), the planner plans by lifetime, and the CA is not asked again before
 * the answer's Retry-After has passed: one extra request per stale answer, never a loop.
 */
export const renewalInfoFor = (runId: string, directory: Directory.Directory, stored: Stored, certId: string) =>
  Effect.gen(function*() {
    const { metadata } = stored
    const now = yield* DateTime.now
    const cached = metadata.renewalInfo
    const problemOf = (window: Window) => RenewalInfo.windowProblem(window, metadata)
    const saved = savedWindow(stored, now)
    if (saved !== undefined) return saved
    let answer = yield* fetchRenewalInfo(directory, certId)
    const first = Option.getOrUndefined(answer)
    const confirmed = cached?.ignored !== undefined && first !== undefined && sameWindow(cached, first.window)
    if (first !== undefined && Option.isSome(problemOf(first.window)) && !confirmed) {
      yield* Effect.logWarning(
        `${stored.name}: the CA's renewal window ${first.window.start} – ${first.window.end} cannot be followed (${
          Option.getOrElse(problemOf(first.window), () => "")
        }); asking once more`
      )
      answer = yield* fetchRenewalInfo(directory, certId)
    }
    if (Option.isNone(answer)) {
      yield* Effect.logWarning(`${stored.name}: the CA's renewalInfo could not be read; planning by lifetime`)
      return undefined
    }
    const { retryAfter, window } = answer.value
    const renewalInfo = {
      ...window,
      fetchedAt: DateTime.formatIso(now),
      nextCheckAt: DateTime.formatIso(DateTime.addDuration(now, retryAfter)),
      ignored: Option.getOrUndefined(problemOf(window))
    }
    yield* keepRenewalInfo(runId, stored, renewalInfo)
    return window
  })
