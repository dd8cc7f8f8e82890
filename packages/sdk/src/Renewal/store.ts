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
import type { CertificateError } from "../AcmeError.js"
import * as Certificate from "../Certificate.js"
import { DeployHook } from "../DeployHook.js"
import type { State } from "../RenewalState.js"
import { Storage, type StorageError } from "../Storage.js"
import {
  currentBucket,
  currentSpec,
  emit,
  nowIso,
  type PipelineError,
  type RenewalSettings,
  updateCurrent
} from "./context.js"

/**
 * @since 0.1.0
 * @category stages
 */
export const store = (
  state: State
): Effect.Effect<State, StorageError | PipelineError | CertificateError, Storage | RenewalSettings> =>
  Effect.gen(function*() {
    const storage = yield* Storage
    const hooks = yield* DeployHook
    const spec = yield* currentSpec(state)
    const bucket = currentBucket(state)
    const reference = bucket.certificateKey
    if (bucket.chainPem === undefined || reference === undefined) {
      return updateCurrent(state, (b) => ({ ...b, stage: "download" }))
    }
    const chain = yield* Certificate.parseChain(bucket.chainPem)
    const leaf = Certificate.leaf(chain)
    // resumed after the files were written but before the checkpoint: they are in place already
    const already = yield* storage.loadCertificate(spec.name)
    const stored = Option.isSome(already) && already.value.metadata.serialNumber === leaf.serialNumber
    const keyPem = stored
      ? Option.none<string>()
      : reference._tag === "Live"
      ? yield* storage.loadCertificateKey(spec.name)
      : yield* storage.loadPendingKey(reference.reference)
    if (!stored && Option.isNone(keyPem)) {
      // a certificate without its key is of no use (the run that wrote the key failed and removed
      // it, but could not record that): order a new one now, with a new key
      yield* Effect.logWarning(
        `${spec.name}: the key written before finalize is gone from storage; ordering a new certificate with a new key`
      )
      return updateCurrent(state, (b) => ({
        ...b,
        stage: "order" as const,
        order: undefined,
        certificateKey: undefined,
        csrPem: undefined,
        chainPem: undefined
      }))
    }
    const paths = Option.isSome(keyPem)
      ? yield* storage.saveCertificate({
        name: spec.name,
        certPem: leaf.pem,
        chainPem: Certificate.issuersPem(chain),
        fullchainPem: chain.pem,
        keyPem: keyPem.value,
        metadata: {
          version: 1,
          name: spec.name,
          identifiers: leaf.identifiers,
          keyType: spec.key,
          profile: spec.profile,
          serialNumber: leaf.serialNumber,
          certId: Option.getOrUndefined(yield* Effect.option(Certificate.certId(leaf))),
          notBefore: DateTime.formatIso(leaf.notBefore),
          notAfter: DateTime.formatIso(leaf.notAfter),
          issuer: leaf.issuer,
          directoryUrl: state.directoryUrl,
          accountUrl: bucket.accountUrl,
          orderUrl: bucket.order?.url,
          issuedAt: yield* nowIso
        }
      })
      : storage.certificatePaths(spec.name)
    if (reference._tag === "Pending") {
      yield* storage.deletePendingKey(reference.reference).pipe(Effect.catchAll((e) => Effect.logWarning(e.message)))
    }
    const result = {
      serialNumber: leaf.serialNumber,
      notAfter: DateTime.formatIso(leaf.notAfter),
      paths: { cert: paths.cert, chain: paths.chain, fullchain: paths.fullchain, privkey: paths.privkey }
    }
    yield* Effect.logInfo(`${spec.name}: stored certificate ${leaf.serialNumber} in ${paths.directory}`)

    const hook = spec.deployHook
    const hookFailure = hook === undefined ? Option.none() : yield* hooks.run({
      certificate: spec.name,
      command: hook,
      environment: {
        ACME_CERT_NAME: spec.name,
        ACME_DOMAINS: leaf.identifiers.map((i) => i.value).join(" "),
        ACME_SERIAL: leaf.serialNumber,
        ACME_CERT_PATH: paths.cert,
        ACME_CHAIN_PATH: paths.chain,
        ACME_FULLCHAIN_PATH: paths.fullchain,
        ACME_KEY_PATH: paths.privkey,
        ACME_LIVE_DIR: paths.directory
      }
    }).pipe(Effect.flip, Effect.option)
    const renewedReason = bucket.decision?.reason ?? "renewed"
    const finished = Option.match(hookFailure, {
      onNone: () => ({ action: "renewed" as const, reason: renewedReason, ...result }),
      onSome: (error) => ({ action: "failed" as const, reason: error.message, ...result })
    })
    yield* emit({ _tag: "CertificateFinished", certificate: spec.name, action: finished.action, reason: finished.reason })
    return updateCurrent(state, (b) => ({
      ...b,
      stage: Option.isSome(hookFailure) ? "failed" : "done",
      chainPem: undefined,
      csrPem: undefined,
      certificateKey: undefined,
      retryNotBefore: undefined,
      result: finished
    }))
  })
