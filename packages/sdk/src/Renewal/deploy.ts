/**
 * Deploy hooks that are not forgotten. A certificate with a deploy hook is stored with the hook
 * owed (`pendingDeploy` in its metadata); the record is cleared when the hook succeeds and counts
 * the failures when it fails. A run then runs the hooks still owed by certificates that are not due
 * (the `deploy` step, after `plan`): the hook alone, with the files in place, and the certificate is
 * reported failed (exit code 1) until its hook succeeds.
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Certificate from "../Certificate.js"
import type { DeployHookError, DeployOutcome } from "../DeployHook.js"
import type { CertificateSpec } from "../RenewalConfig.js"
import { RenewalSettings } from "../RenewalSettings.js"
import type { Bucket, State } from "../RenewalState.js"
import { type CertificatePaths, Storage, type StorageError } from "../Storage.js"
import { emit, nowIso } from "./context.js"
import { deploy } from "./install.js"
import * as Stage from "./stage.js"

/**
 * Runs the certificate's deploy hook (the files are in place) and records what became of it in the
 * certificate's metadata. Undefined when the certificate has no hook.
 *
 * @since 0.1.0
 * @category combinators
 */
export const runRecorded = (
  spec: CertificateSpec,
  leaf: Certificate.Certificate,
  paths: CertificatePaths
): Effect.Effect<
  { readonly outcome: DeployOutcome; readonly error: Option.Option<DeployHookError> } | undefined,
  StorageError,
  Storage
> =>
  Effect.gen(function*() {
    if (spec.deployHook === undefined) return undefined
    const storage = yield* Storage
    const failure = yield* deploy(spec, leaf, paths)
    const stored = yield* storage.loadCertificate(spec.name)
    const metadata = Option.map(stored, (s) => s.metadata)
    const owed = Option.flatMap(metadata, (m) => Option.fromNullable(m.pendingDeploy))
    const since = Option.match(owed, { onNone: () => nowIso, onSome: (p) => Effect.succeed(p.since) })
    if (Option.isNone(failure)) {
      if (Option.isSome(metadata) && Option.isSome(owed)) {
        yield* storage.updateMetadata(spec.name, { ...metadata.value, pendingDeploy: undefined })
      }
      return { outcome: { status: "done" as const }, error: Option.none() }
    }
    const pending = {
      since: yield* since,
      attempts: Option.match(owed, { onNone: () => 0, onSome: (p) => p.attempts }) + 1,
      error: failure.value.failure
    }
    if (Option.isSome(metadata)) yield* storage.updateMetadata(spec.name, { ...metadata.value, pendingDeploy: pending })
    return { outcome: { status: "pending" as const, ...pending }, error: failure }
  })

/** A certificate not due whose hook is still owed, and that this run has not run yet. */
const owesDeploy = (bucket: Bucket): boolean =>
  bucket.stage === "skipped" && bucket.decision !== undefined && bucket.current?.pendingDeploy !== undefined &&
  bucket.result?.deploy === undefined

/** `2026-11-23` of an ISO time */
const day = (iso: string): string =>
  Option.match(DateTime.make(iso), { onNone: () => iso, onSome: (at) => DateTime.formatIso(at).slice(0, 10) })

/**
 * deploy: runs the deploy hooks that certificates not due still owe, one certificate at a time. No
 * network. A certificate whose hook was taken out of the configuration owes nothing any more.
 *
 * @since 0.1.0
 * @category stages
 */
export const redeploy: Stage.Stage<StorageError, Storage | RenewalSettings> = Stage.fromFunction((
  state: State
) =>
  Effect.gen(function*() {
    if (!state.buckets.some(owesDeploy)) return state
    const settings = yield* RenewalSettings
    const storage = yield* Storage
    const buckets: Array<Bucket> = []
    for (const bucket of state.buckets) {
      const spec = settings.config.certificates.find((c) => c.name === bucket.name)
      const stored = owesDeploy(bucket) && spec !== undefined ? yield* storage.loadCertificate(bucket.name) : Option.none()
      if (spec === undefined || Option.isNone(stored)) {
        buckets.push(bucket)
        continue
      }
      const chain = yield* Effect.option(Certificate.parseChain(stored.value.fullchainPem))
      if (Option.isNone(chain)) {
        yield* Effect.logWarning(`${bucket.name}: its deploy hook is still owed, but its fullchain.pem does not parse`)
        buckets.push(bucket)
        continue
      }
      const leaf = Certificate.leaf(chain.value)
      const ran = yield* runRecorded(spec, leaf, stored.value.paths)
      const result = bucket.result ?? { action: "skipped" as const, reason: "not due" }
      if (ran === undefined) {
        // the hook was taken out of the configuration: nothing is owed
        yield* storage.updateMetadata(spec.name, { ...stored.value.metadata, pendingDeploy: undefined })
        buckets.push(bucket)
        continue
      }
      const next: Bucket = Option.match(ran.error, {
        onNone: () => ({
          ...bucket,
          result: { ...result, reason: `${result.reason}; its deploy hook, which had failed, ran again and succeeded`, deploy: ran.outcome }
        }),
        onSome: (error) => ({
          ...bucket,
          stage: "failed" as const,
          result: {
            ...result,
            action: "failed" as const,
            reason: `the deploy hook failed again (${ran.outcome.attempts ?? 0} failures since the certificate was stored on ${
              day(ran.outcome.since ?? "")
            }): ${error.message}`,
            deploy: ran.outcome
          }
        })
      })
      yield* emit({ _tag: "CertificateFinished", certificate: bucket.name, action: next.result?.action ?? "skipped", reason: next.result?.reason ?? "" })
      buckets.push(next)
    }
    return { ...state, buckets }
  })
)
