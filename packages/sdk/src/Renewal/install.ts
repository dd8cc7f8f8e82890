/**
 * Putting an issued certificate in place, for the store stage: the stored set with its metadata,
 * and the deploy hook.
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Certificate from "../Certificate.js"
import { DeployHook } from "../DeployHook.js"
import type { CertificateSpec } from "../RenewalConfig.js"
import type { Bucket, State } from "../RenewalState.js"
import type { CertificatePaths } from "../Storage.js"
import { nowIso } from "./context.js"
import { CertificateWrites } from "./lease.js"

/**
 * Writes the new set: the chain, the key, and the metadata a later scan reads.
 *
 * @since 0.1.0
 * @category combinators
 */
export const save = (state: State, bucket: Bucket, spec: CertificateSpec, chain: Certificate.Chain, keyPem: string) =>
  Effect.gen(function*() {
    const leaf = Certificate.leaf(chain)
    const issuedAt = yield* nowIso
    return yield* (yield* CertificateWrites).saveCertificate({
      certPem: leaf.pem,
      chainPem: Certificate.issuersPem(chain),
      fullchainPem: chain.pem,
      keyPem,
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
        issuedAt,
        // owed until the hook succeeds: a crash before it runs leaves it to the next run
        pendingDeploy: spec.deployHook !== undefined ? { since: issuedAt, attempts: 0 } : undefined
      }
    })
  })

/**
 * Runs the certificate's deploy hook, with the paths in its environment; its failure, when it failed.
 *
 * @since 0.1.0
 * @category combinators
 */
export const deploy = (spec: CertificateSpec, leaf: Certificate.Certificate, paths: CertificatePaths) =>
  spec.deployHook === undefined ? Effect.succeedNone : Effect.flatMap(DeployHook, (hooks) =>
    hooks.run({
      certificate: spec.name,
      command: spec.deployHook ?? "",
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
    }).pipe(Effect.flip, Effect.option))
