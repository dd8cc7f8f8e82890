/**
 * csr: the certificate key and the CSR. A new key for every renewal by default (`reuseKey` keeps the
 * stored one). The new key is written to storage (0600) here, before finalize, so that a crash after
 * the CA issued the certificate can never leave it without its key. The state keeps a reference to
 * the key file and the CSR (public), never the key. No network.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as CertificateKey from "../CertificateKey.js"
import * as Csr from "../Csr.js"
import type { CertificateSpec } from "../RenewalConfig.js"
import { Storage } from "../Storage.js"
import { currentSpec } from "./context.js"
import { CertificateWrites } from "./lease.js"
import * as Stage from "./stage.js"

/** The stored key, for `reuseKey`, when there is one of the configured type. */
const storedKey = (spec: CertificateSpec) =>
  Effect.flatMap(Storage, (storage) => storage.loadCertificateKey(spec.name)).pipe(
    Effect.flatMap(Option.match({
      onNone: () => Effect.succeed(Option.none<CertificateKey.CertificateKey>()),
      onSome: (pem) =>
        CertificateKey.fromPem(pem).pipe(
          Effect.map((key) => key.type === spec.key ? Option.some(key) : Option.none()),
          Effect.orElseSucceed(() => Option.none<CertificateKey.CertificateKey>())
        )
    }))
  )

/**
 * @since 0.1.0
 * @category stages
 */
export const csr = Stage.make(({ bucket, keepCsr, state }) =>
  Effect.gen(function*() {
    const storage = yield* Storage
    const spec = yield* currentSpec(state)

    // resumed after this stage had run: the key it wrote and the CSR are still good
    if (bucket.csrPem !== undefined && bucket.certificateKey !== undefined) {
      const reference = bucket.certificateKey
      const present = reference._tag === "Live"
        ? Option.isSome(yield* storage.loadCertificateKey(spec.name))
        : Option.isSome(yield* storage.loadPendingKey(reference.reference))
      if (present) return { stage: "finalize" } as const
    }

    const reused = spec.reuseKey ? yield* storedKey(spec) : Option.none<CertificateKey.CertificateKey>()
    const key = Option.isSome(reused) ? reused.value : yield* CertificateKey.generate(spec.key)
    const certificateKey = Option.isSome(reused)
      ? { _tag: "Live" as const }
      : { _tag: "Pending" as const, reference: yield* (yield* CertificateWrites).savePendingKey(yield* CertificateKey.toPem(key)) }
    const request = yield* Csr.create({ key, identifiers: bucket.identifiers })
    // for finalize and download, which would otherwise parse its PEM again
    yield* keepCsr(request)
    return { certificateKey, csrPem: request.pem, stage: "finalize" } as const
  })
)
