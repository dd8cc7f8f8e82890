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
import type { LeaseError } from "../Lease.js"
import type { Bucket, State } from "../RenewalState.js"
import { type CertificatePaths, Storage, type StorageError } from "../Storage.js"
import { emit, nowIso } from "./context.js"
import { deploy } from "./install.js"
import { briefly, CertificateWrites } from "./lease.js"
import * as Stage from "./stage.js"

/**
 * Runs the certificate's deploy hook (the files are in place) and records what became of it in the
 * certificate's metadata, through the writes of the run's lease on it. Undefined when the
 * certificate has no hook.
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
  StorageError | LeaseError,
  Storage | CertificateWrites
> =>
  Effect.gen(function*() {
    if (spec.deployHook === undefined) return undefined
    const storage = yield* Storage
    const writes = yield* CertificateWrites
    const failure = yield* deploy(spec, leaf, paths)
    const stored = yield* storage.loadCertificate(spec.name)
    const metadata = Option.map(stored, (s) => s.metadata)
    const owed = Option.flatMap(metadata, (m) => Option.fromNullable(m.pendingDeploy))
    const since = Option.match(owed, { onNone: () => nowIso, onSome: (p) => Effect.succeed(p.since) })
    if (Option.isNone(failure)) {
      if (Option.isSome(metadata) && Option.isSome(owed)) {
        yield* writes.updateMetadata({ ...metadata.value, pendingDeploy: undefined })
      }
      return { outcome: { status: "done" as const }, error: Option.none() }
    }
    const pending = {
      since: yield* since,
      attempts: Option.match(owed, { onNone: () => 0, onSome: (p) => p.attempts }) + 1,
      error: failure.value.failure
    }
    if (Option.isSome(metadata)) yield* writes.updateMetadata({ ...metadata.value, pendingDeploy: pending })
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
 * The hook a certificate still owes, run under a short lease on it (the next bucket), or the bucket
 * as it is when another run holds the certificate (that run deals with it).
 */
const redeployOne = (runId: string, spec: CertificateSpec, bucket: Bucket) =>
  Effect.gen(function*() {
    const storage = yield* Storage
    const held = yield* briefly(runId, spec.name, (writes) =>
      Effect.gen(function*() {
        // read under the lease: another run may have run the hook or stored a new certificate since the scan
        const stored = yield* storage.loadCertificate(spec.name)
        if (Option.isNone(stored) || stored.value.metadata.pendingDeploy === undefined) return bucket
        const chain = yield* Effect.option(Certificate.parseChain(stored.value.fullchainPem))
        if (Option.isNone(chain)) {
          yield* Effect.logWarning(`${bucket.name}: its deploy hook is still owed, but its fullchain.pem does not parse`)
          return bucket
        }
        const ran = yield* runRecorded(spec, Certificate.leaf(chain.value), stored.value.paths).pipe(
          Effect.provideService(CertificateWrites, writes)
        )
        if (ran === undefined) {
          // the hook was taken out of the configuration: nothing is owed
          yield* writes.updateMetadata({ ...stored.value.metadata, pendingDeploy: undefined })
          return bucket
        }
        const result = bucket.result ?? { action: "skipped" as const, reason: "not due" }
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
        return next
      }))
    if (held._tag === "Right") return held.right
    yield* Effect.logDebug(`${bucket.name}: its deploy hook is left to the run that holds it (${held.left.message})`)
    return bucket
  }).pipe(
    // the lease was lost while the hook ran (this process was paused past it): the new holder owns the record now
    Effect.catchTag("LeaseError", (error) =>
      Effect.as(Effect.logWarning(`${bucket.name}: its deploy hook's outcome is not recorded: ${error.message}`), bucket))
  )

/**
 * deploy: runs the deploy hooks that certificates not due still owe, one certificate at a time, each
 * under a short lease on it (a certificate another run holds is left to that run). No network. A
 * certificate whose hook was taken out of the configuration owes nothing any more.
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
    const buckets: Array<Bucket> = []
    for (const bucket of state.buckets) {
      const spec = settings.config.certificates.find((c) => c.name === bucket.name)
      buckets.push(spec !== undefined && owesDeploy(bucket) ? yield* redeployOne(state.runId, spec, bucket) : bucket)
    }
    return { ...state, buckets }
  })
)
