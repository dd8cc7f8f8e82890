/**
 * Certificates in the file system storage: saved as a new archive version made live in one
 * rename, read through the live link resolved once, metadata rewritten in place.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { CertificateName } from "../../CertificateName.js"
import { checkName, isSafeName } from "../storage/names.js"
import { CertificateMetadata, type Records, type StoredCertificate } from "../storage/service.js"
import { isNotFound, storageError } from "./errors.js"
import { type Files, privateMode, publicMode } from "./files.js"
import type { Layout } from "./layout.js"
import type { Versions } from "./versions.js"

const MetadataJson = Schema.parseJson(CertificateMetadata, { space: 2 })

/** @internal */
export const certificateRecords = (
  files: Files,
  layout: Layout,
  versions: Versions,
  /** certificate writes (save, metadata update) one at a time */
  lock: Effect.Semaphore
): Pick<
  Records,
  "certificatePaths" | "saveCertificate" | "loadCertificate" | "loadCertificateMetadata" | "loadCertificateKey" | "updateMetadata" | "listCertificates"
> => {
  const { fs, path } = files

  const saveCertificate: Records["saveCertificate"] = Effect.fn("Storage.saveCertificate")(function*(certificate) {
    const name = yield* checkName(certificate.name)
    const metadataJson = yield* files.encodeJson(
      MetadataJson,
      path.join(layout.liveDir(name), "metadata.json"),
      certificate.metadata
    )
    return yield* lock.withPermits(1)(Effect.gen(function*() {
      yield* versions.install(name, (target) =>
        // a new version's folder: install fsyncs it once after the last file, before the link swap
        Effect.gen(function*() {
          yield* files.writeAtomicUnsynced(path.join(target, "cert.pem"), certificate.certPem, publicMode)
          yield* files.writeAtomicUnsynced(path.join(target, "chain.pem"), certificate.chainPem, publicMode)
          yield* files.writeAtomicUnsynced(path.join(target, "fullchain.pem"), certificate.fullchainPem, publicMode)
          yield* files.writeAtomicUnsynced(path.join(target, "privkey.pem"), certificate.keyPem, privateMode)
          yield* files.writeAtomicUnsynced(path.join(target, "metadata.json"), metadataJson, publicMode)
        }))
      return layout.certificatePaths(name)
    }))
  })

  const loadCertificate: Records["loadCertificate"] = Effect.fn("Storage.loadCertificate")(function*(name) {
    yield* checkName(name)
    const directory = yield* versions.currentDirectory(name)
    if (Option.isNone(directory)) return Option.none()
    const fullchainPem = yield* files.readText(path.join(directory.value, "fullchain.pem"))
    const metadataFile = path.join(directory.value, "metadata.json")
    const metadataText = yield* files.readText(metadataFile)
    if (Option.isNone(fullchainPem) || Option.isNone(metadataText)) return Option.none()
    const metadata = yield* files.decodeFile(MetadataJson, metadataFile, metadataText.value)
    return Option.some<StoredCertificate>({
      name,
      fullchainPem: fullchainPem.value,
      metadata,
      paths: layout.certificatePaths(name)
    })
  })

  const loadCertificateMetadata: Records["loadCertificateMetadata"] = (name) =>
    Effect.gen(function*() {
      yield* checkName(name)
      // through the live link (one file, read whole: no readlink of its own, at 10,000 certificates)
      const metadataFile = path.join(layout.liveDir(name), "metadata.json")
      const metadataText = yield* files.readText(metadataFile)
      if (Option.isNone(metadataText)) return Option.none()
      // as loadCertificate: a version without its fullchain.pem is no certificate (checked, not read)
      const fullchain = yield* files.optional(fs.access(path.join(layout.liveDir(name), "fullchain.pem")), name)
      if (Option.isNone(fullchain)) return Option.none()
      return Option.some(yield* files.decodeFile(MetadataJson, metadataFile, metadataText.value))
    })

  const loadCertificateKey: Records["loadCertificateKey"] = Effect.fn("Storage.loadCertificateKey")(function*(name) {
    yield* checkName(name)
    const directory = yield* versions.currentDirectory(name)
    if (Option.isNone(directory)) return Option.none()
    return yield* files.readText(path.join(directory.value, "privkey.pem"))
  })

  const updateMetadata: Records["updateMetadata"] = Effect.fn("Storage.updateMetadata")(function*(name, metadata) {
    yield* checkName(name)
    yield* lock.withPermits(1)(Effect.gen(function*() {
      const directory = yield* versions.currentDirectory(name)
      // like the memory storage: nothing stored, nothing to update
      if (Option.isNone(directory)) return
      const file = path.join(directory.value, "metadata.json")
      yield* files.writeAtomic(file, yield* files.encodeJson(MetadataJson, file, metadata), publicMode)
    }))
  })

  const listCertificates: Records["listCertificates"] = fs.readDirectory(layout.liveRoot).pipe(
    Effect.map((entries) => entries.filter(isSafeName).sort()),
    Effect.catchIf(isNotFound, () => Effect.succeed<Array<CertificateName>>([])),
    Effect.mapError(storageError(layout.liveRoot)),
    Effect.withSpan("Storage.listCertificates")
  )

  return {
    certificatePaths: layout.certificatePaths,
    saveCertificate,
    loadCertificate,
    loadCertificateMetadata,
    loadCertificateKey,
    updateMetadata,
    listCertificates
  }
}
