/**
 * store: writes the new certificate, its chain and its key into storage all together (a reader sees
 * the old set or the new one), then runs the deploy hook with the paths in its environment. The
 * pending key file is removed once the new set is in place. No network.
 *
 * A failing deploy hook does not undo the renewal: the certificate is reported as failed with the
 * hook's output, and the files stay.
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Certificate from "../Certificate.js"
import { Storage } from "../Storage.js"
import { currentSpec, emit } from "./context.js"
import { runRecorded } from "./deploy.js"
import { save } from "./install.js"
import { CertificateWrites } from "./lease.js"
import * as Stage from "./stage.js"

/**
 * @since 0.1.0
 * @category stages
 */
export const store = Stage.make(({ bucket, chainOf, state }) =>
  Effect.gen(function*() {
    const storage = yield* Storage
    const spec = yield* currentSpec(state)
    const reference = bucket.certificateKey
    if (bucket.chainPem === undefined || reference === undefined) return { stage: "download" } as const
    // the chain download parsed; a run resumed at store parses it again
    const chain = yield* chainOf(bucket.chainPem)
    const leaf = Certificate.leaf(chain)
    // resumed after the files were written but before the checkpoint: they are in place already
    const already = yield* storage.loadCertificate(spec.name)
    const stored = Option.isSome(already) && already.value.metadata.serialNumber === leaf.serialNumber
    const keyPem = stored
      ? Option.none<string>()
      : yield* (reference._tag === "Live" ? storage.loadCertificateKey(spec.name) : storage.loadPendingKey(reference.reference))
    if (!stored && Option.isNone(keyPem)) {
      // a certificate without its key is of no use (the run that wrote the key failed and removed
      // it, but could not record that): order a new one now, with a new key
      yield* Effect.logWarning(
        `${spec.name}: the key written before finalize is gone from storage; ordering a new certificate with a new key`
      )
      return { stage: "order", order: undefined, certificateKey: undefined, csrPem: undefined, chainPem: undefined } as const
    }
    const paths = Option.isSome(keyPem) ? yield* save(state, bucket, spec, chain, keyPem.value) : storage.certificatePaths(spec.name)
    if (reference._tag === "Pending") {
      yield* (yield* CertificateWrites).deletePendingKey(reference.reference).pipe(
        // a lost lease is the run's business (Renewal/lease.ts); a key left behind is only a warning
        Effect.catchTag("StorageError", (e) => Effect.logWarning(e.message))
      )
    }
    yield* Effect.logInfo(`${spec.name}: stored certificate ${leaf.serialNumber} in ${paths.directory}`)

    // the hook's outcome is recorded in the metadata: a failed one is run again by the next runs
    const hook = yield* runRecorded(spec, leaf, paths)
    const hookFailure = hook === undefined ? Option.none() : hook.error
    const result = {
      action: Option.isSome(hookFailure) ? "failed" as const : "renewed" as const,
      reason: Option.match(hookFailure, { onNone: () => bucket.decision?.reason ?? "renewed", onSome: (e) => e.message }),
      serialNumber: leaf.serialNumber,
      notAfter: DateTime.formatIso(leaf.notAfter),
      // an ARI replacement: the order named the old certificate in `replaces`, and the CA took it
      replaced: bucket.order?.replacesDropped === false ? bucket.order.replaces : undefined,
      paths: { cert: paths.cert, chain: paths.chain, fullchain: paths.fullchain, privkey: paths.privkey },
      deploy: hook !== undefined && hook.outcome.status === "pending" ? hook.outcome : undefined
    }
    yield* emit({ _tag: "CertificateFinished", certificate: spec.name, action: result.action, reason: result.reason })
    return {
      stage: Option.isSome(hookFailure) ? "failed" : "done",
      chainPem: undefined,
      csrPem: undefined,
      certificateKey: undefined,
      retryNotBefore: undefined,
      result
    } as const
  })
)
