/**
 * Storage in memory: one `Ref` holding every record, and leases kept in this storage value.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import type { CertificateName } from "../../CertificateName.js"
import * as ServiceRecords from "../../ServiceRecords.js"
import { StorageError } from "../../StorageError.js"
import * as Leases from "./leases.js"
import { caFolder, checkName, checkPendingReference } from "./names.js"
import type { AccountInfo, CertificateMetadata, CertificatePaths, Records, Service } from "./service.js"

interface MemoryState {
  readonly certificates: ReadonlyMap<CertificateName, {
    readonly certPem: string
    readonly chainPem: string
    readonly fullchainPem: string
    readonly keyPem: string
    readonly metadata: CertificateMetadata
  }>
  readonly pending: ReadonlyMap<string, string>
  readonly accounts: ReadonlyMap<string, { readonly keyPem: string; readonly info: Option.Option<AccountInfo> }>
  readonly rolloverKeys: ReadonlyMap<string, string>
  readonly checkpoints: ReadonlyArray<{ readonly runId: string; readonly json: string }>
}

const makeRecords: Effect.Effect<Records> = Effect.map(
  Ref.make<MemoryState>({
    certificates: new Map(),
    pending: new Map(),
    accounts: new Map(),
    rolloverKeys: new Map(),
    checkpoints: []
  }),
  (ref): Records => {
    const paths = (name: string): CertificatePaths => ({
      directory: `memory:live/${name}`,
      cert: `memory:live/${name}/cert.pem`,
      chain: `memory:live/${name}/chain.pem`,
      fullchain: `memory:live/${name}/fullchain.pem`,
      privkey: `memory:live/${name}/privkey.pem`,
      metadata: `memory:live/${name}/metadata.json`
    })
    const accountKey = (directoryUrl: string, name: string) => `${caFolder(directoryUrl)}/${name}`
    const update = (f: (state: MemoryState) => MemoryState) => Ref.update(ref, f)
    return {
      location: "memory",
      certificatePaths: paths,
      loadCertificate: (name) =>
        Effect.flatMap(checkName(name), () =>
          Effect.map(Ref.get(ref), (state) =>
            Option.map(Option.fromNullable(state.certificates.get(name)), (stored) => ({
              name,
              fullchainPem: stored.fullchainPem,
              metadata: stored.metadata,
              paths: paths(name)
            })))),
      loadCertificateMetadata: (name) =>
        Effect.flatMap(checkName(name), () =>
          Effect.map(Ref.get(ref), (state) =>
            Option.map(Option.fromNullable(state.certificates.get(name)), (stored) => stored.metadata))),
      loadCertificateKey: (name) =>
        Effect.flatMap(checkName(name), () =>
          Effect.map(Ref.get(ref), (state) =>
            Option.map(Option.fromNullable(state.certificates.get(name)), (stored) => stored.keyPem))),
      saveCertificate: (certificate) =>
        Effect.flatMap(checkName(certificate.name), (name) =>
          Effect.as(
            update((state) => ({
              ...state,
              certificates: new Map(state.certificates).set(name, {
                certPem: certificate.certPem,
                chainPem: certificate.chainPem,
                fullchainPem: certificate.fullchainPem,
                keyPem: certificate.keyPem,
                metadata: certificate.metadata
              })
            })),
            paths(name)
          )),
      updateMetadata: (name, metadata) =>
        Effect.flatMap(checkName(name), () =>
          update((state) => {
            const stored = state.certificates.get(name)
            return stored === undefined
              ? state
              : { ...state, certificates: new Map(state.certificates).set(name, { ...stored, metadata }) }
          })),
      listCertificates: Effect.map(Ref.get(ref), (state) => [...state.certificates.keys()].sort()),
      savePendingKey: (name, runId, keyPem) =>
        Effect.flatMap(checkName(name), () => {
          const reference = `pending/${name}.${runId}.key`
          return Effect.as(update((state) => ({ ...state, pending: new Map(state.pending).set(reference, keyPem) })), reference)
        }),
      loadPendingKey: (reference) =>
        Effect.flatMap(checkPendingReference(reference), () =>
          Effect.map(Ref.get(ref), (state) => Option.fromNullable(state.pending.get(reference)))),
      deletePendingKey: (reference) =>
        Effect.zipRight(checkPendingReference(reference), update((state) => {
          const pending = new Map(state.pending)
          pending.delete(reference)
          return { ...state, pending }
        })),
      loadAccount: (directoryUrl, name) =>
        Effect.map(Ref.get(ref), (state) => Option.fromNullable(state.accounts.get(accountKey(directoryUrl, name)))),
      saveAccountKey: (directoryUrl, name, keyPem) =>
        update((state) => ({
          ...state,
          accounts: new Map(state.accounts).set(accountKey(directoryUrl, name), {
            keyPem,
            info: state.accounts.get(accountKey(directoryUrl, name))?.info ?? Option.none()
          })
        })),
      createAccountKey: (directoryUrl, name, keyPem) =>
        Ref.modify(ref, (state) => {
          const key = accountKey(directoryUrl, name)
          const existing = state.accounts.get(key)
          return existing !== undefined
            ? [existing.keyPem, state]
            : [keyPem, { ...state, accounts: new Map(state.accounts).set(key, { keyPem, info: Option.none() }) }]
        }),
      saveAccountInfo: (directoryUrl, name, info) =>
        update((state) => {
          const existing = state.accounts.get(accountKey(directoryUrl, name))
          return existing === undefined
            ? state
            : {
              ...state,
              accounts: new Map(state.accounts).set(accountKey(directoryUrl, name), { ...existing, info: Option.some(info) })
            }
        }),
      loadRolloverKey: (directoryUrl, name) =>
        Effect.map(Ref.get(ref), (state) => Option.fromNullable(state.rolloverKeys.get(accountKey(directoryUrl, name)))),
      saveRolloverKey: (directoryUrl, name, keyPem) =>
        update((state) => {
          const rolloverKeys = new Map(state.rolloverKeys)
          if (Option.isSome(keyPem)) rolloverKeys.set(accountKey(directoryUrl, name), keyPem.value)
          else rolloverKeys.delete(accountKey(directoryUrl, name))
          return { ...state, rolloverKeys }
        }),
      saveCheckpoint: (runId, json) =>
        update((state) => ({
          ...state,
          // ordered by run id, as the file storage lists them (run ids sort by time)
          checkpoints: [...state.checkpoints.filter((c) => c.runId !== runId), { runId, json }].sort((a, b) =>
            a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0
          )
        })),
      appendCheckpoint: (runId, change) =>
        Effect.flatten(Ref.modify(ref, (state): readonly [Effect.Effect<void, StorageError>, MemoryState] =>
          state.checkpoints.some((c) => c.runId === runId)
            ? [Effect.void, {
              ...state,
              checkpoints: state.checkpoints.map((c) => c.runId === runId ? { runId, json: `${c.json}\n${change}` } : c)
            }]
            : [
              Effect.fail(
                new StorageError({
                  reason: "Io",
                  path: `memory:runs/${runId}`,
                  description: "there is no checkpoint of this run to append to"
                })
              ),
              state
            ])),
      loadCheckpoints: Effect.map(Ref.get(ref), (state) => state.checkpoints),
      pruneCheckpoints: (keep) =>
        update((state) => ({
          ...state,
          checkpoints: keep <= 0 ? [] : state.checkpoints.slice(-keep)
        })),
      records: ServiceRecords.makeMemory()
    }
  }
)

/** @internal */
export const makeMemory: Effect.Effect<Service> = Effect.zipWith(makeRecords, Leases.makeMemoryTable, Leases.make)
