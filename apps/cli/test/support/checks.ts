/**
 * Checks of what a run of the built `acme` binary left on disk and printed, shared by the crash and
 * fault tests: the whole-file check, the JSON report, the orders the CA holds, byte snapshots.
 */
import { createPrivateKey, X509Certificate } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { Pebble } from "@acme/testing"
import { AccountKey, AcmeProtocol, Reporter, Storage } from "@acme/sdk"
import { expect } from "@effect/vitest"
import { Effect, Option, Schema } from "effect"
import type { Result } from "./cli.js"

export const isTemporary = (name: string) => /^\..*\.tmp-/.test(name)

/** Every file a reader can see parses completely, and a live certificate matches its key. */
export const assertComplete = (storage: string) => {
  const walk = (folder: string): Array<string> =>
    fs.existsSync(folder)
      ? fs.readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
        const full = path.join(folder, entry.name)
        if (isTemporary(entry.name)) return []
        // live/<name> is a symbolic link to a folder: follow it
        return fs.statSync(full).isDirectory() ? walk(full) : [full]
      })
      : []
  for (const file of walk(storage)) {
    const text = fs.readFileSync(file, "utf8")
    if (file.endsWith(".json")) expect(() => JSON.parse(text), file).not.toThrow()
    if (file.endsWith("privkey.pem") || file.endsWith(".key")) expect(() => createPrivateKey(text), file).not.toThrow()
    if (/(cert|chain|fullchain)\.pem$/.test(file)) expect(() => new X509Certificate(text), file).not.toThrow()
  }
  const live = path.join(storage, "live")
  for (const name of fs.existsSync(live) ? fs.readdirSync(live).filter((n) => !isTemporary(n)) : []) {
    const certificate = new X509Certificate(fs.readFileSync(path.join(live, name, "cert.pem")))
    expect(certificate.checkPrivateKey(createPrivateKey(fs.readFileSync(path.join(live, name, "privkey.pem")))), name)
      .toBe(true)
    const fullchain = fs.readFileSync(path.join(live, name, "fullchain.pem"), "utf8")
    expect(fullchain.startsWith(fs.readFileSync(path.join(live, name, "cert.pem"), "utf8")), name).toBe(true)
  }
}

/** The serial of the live certificate `name` (as openssl prints it, and acme reports it), after checking it names `domain`. */
export const liveSerial = (storage: string, name: string, domain: string): string => {
  const certificate = new X509Certificate(fs.readFileSync(path.join(storage, "live", name, "cert.pem")))
  expect(certificate.subjectAltName, name).toContain(`DNS:${domain}`)
  return certificate.serialNumber
}

/** The orders the CA holds for the account the CLI stored, listed with the SDK. */
export const ordersAtCa = (storage: string) =>
  Effect.gen(function*() {
    const pebble = yield* Pebble.Pebble
    const acmeClient = yield* AcmeProtocol.AcmeProtocol
    const folder = path.join(storage, "accounts", Storage.caFolder(pebble.directoryUrl), "default")
    const info = Schema.decodeUnknownSync(Schema.parseJson(Storage.AccountInfo))(
      fs.readFileSync(path.join(folder, "account.json"), "utf8")
    )
    const key = yield* AccountKey.fromPem(fs.readFileSync(path.join(folder, "account.key"), "utf8"))
    const directory = yield* acmeClient.directory
    const listed = yield* acmeClient.listOrders({
      nonce: yield* acmeClient.newNonce(directory),
      account: { key, url: info.url }
    })
    return listed.value
  })

/** How many orders the CA holds for each domain, for the account stored in `storage` (any Storage). */
export const ordersByDomain = (storage: Storage.Service) =>
  Effect.gen(function*() {
    const pebble = yield* Pebble.Pebble
    const client = yield* AcmeProtocol.AcmeProtocol
    const stored = Option.getOrThrow(yield* storage.loadAccount(pebble.directoryUrl, "default"))
    const account = { key: yield* AccountKey.fromPem(stored.keyPem), url: Option.getOrThrow(stored.info).url }
    const directory = yield* client.directory
    const listed = yield* client.listOrders({ nonce: yield* client.newNonce(directory), account })
    const counts = new Map<string, number>()
    for (const url of listed.value) {
      const order = yield* client.getOrder({ nonce: yield* client.newNonce(directory), account, url })
      for (const identifier of order.value.identifiers) {
        counts.set(identifier.value, (counts.get(identifier.value) ?? 0) + 1)
      }
    }
    return counts
  })

export const reportOf = (result: Result): Reporter.RunReport =>
  Schema.decodeUnknownSync(Schema.parseJson(Reporter.RunReport))(result.stdout)

/** Every regular file under `root`'s `live`, `archive` and `accounts` (links followed), with its bytes. */
export const contents = (root: string): Record<string, string> => {
  const files: Record<string, string> = {}
  const walk = (folder: string) => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name)
      if (fs.statSync(full).isDirectory()) walk(full)
      else files[path.relative(root, full)] = fs.readFileSync(full).toString("base64")
    }
  }
  for (const folder of ["live", "archive", "accounts"]) {
    if (fs.existsSync(path.join(root, folder))) walk(path.join(root, folder))
  }
  return files
}

/** Temp files (`.<name>.tmp-<hex>`) anywhere under `root`. */
export const temporaryFiles = (root: string): ReadonlyArray<string> =>
  fs.existsSync(root)
    ? fs.readdirSync(root, { recursive: true, encoding: "utf8" }).filter((file) => isTemporary(path.basename(file)))
    : []

/** The files in `<root>/pending` (certificate keys between csr and store). */
export const pendingKeys = (root: string): ReadonlyArray<string> =>
  fs.existsSync(path.join(root, "pending")) ? fs.readdirSync(path.join(root, "pending")) : []
