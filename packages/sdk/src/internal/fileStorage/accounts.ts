/**
 * Accounts in the file system storage: `accounts/<ca folder>/<name>/account.key` (0600) and
 * `account.json`, the info written only next to a stored key; `rollover.key` (0600) while a key
 * rollover is in progress.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { StorageError } from "../../StorageError.js"
import { caFolder, checkName } from "../storage/names.js"
import { AccountInfo, type Records, type StoredAccount } from "../storage/service.js"
import { storageError } from "./errors.js"
import { type Files, privateMode, publicMode, safeSegment } from "./files.js"
import type { Layout } from "./layout.js"

const AccountInfoJson = Schema.parseJson(AccountInfo, { space: 2 })

/** the new key of a rollover in progress, in the account's own folder */
export const rolloverKeyFile = "rollover.key"

/** @internal */
export const accountRecords = (
  files: Files,
  layout: Layout
): Pick<Records, "loadAccount" | "saveAccountKey" | "createAccountKey" | "saveAccountInfo" | "loadRolloverKey" | "saveRolloverKey"> => {
  const { fs, path } = files

  const accountDir = (directoryUrl: string, name: string) =>
    Effect.gen(function*() {
      yield* checkName(name)
      const ca = caFolder(directoryUrl)
      if (!safeSegment.test(ca)) {
        return yield* new StorageError({
          reason: "InvalidName",
          path: ca,
          description: `the directory URL ${directoryUrl} gives no usable folder name`
        })
      }
      return path.join(layout.accountsRoot, ca, name)
    })

  const loadAccount: Records["loadAccount"] = Effect.fn("Storage.loadAccount")(function*(directoryUrl, name) {
    const directory = yield* accountDir(directoryUrl, name)
    const keyPem = yield* files.readText(path.join(directory, "account.key"))
    if (Option.isNone(keyPem)) return Option.none()
    const infoFile = path.join(directory, "account.json")
    const infoText = yield* files.readText(infoFile)
    const info = Option.isSome(infoText)
      ? Option.some(yield* files.decodeFile(AccountInfoJson, infoFile, infoText.value))
      : Option.none()
    return Option.some<StoredAccount>({ keyPem: keyPem.value, info })
  })

  const saveAccountKey: Records["saveAccountKey"] = Effect.fn("Storage.saveAccountKey")(
    function*(directoryUrl, name, keyPem) {
      const directory = yield* accountDir(directoryUrl, name)
      yield* files.ensureDirectory(directory)
      yield* files.writeAtomic(path.join(directory, "account.key"), keyPem, privateMode)
    }
  )

  const createAccountKey: Records["createAccountKey"] = Effect.fn("Storage.createAccountKey")(
    function*(directoryUrl, name, keyPem) {
      const directory = yield* accountDir(directoryUrl, name)
      const file = path.join(directory, "account.key")
      yield* files.ensureDirectory(directory)
      // written complete under a temp name, then linked to account.key: the link fails when
      // another run saved a key first, and that key is the account's
      const created = yield* files.createAtomic(file, keyPem, privateMode)
      if (created) return keyPem
      const stored = yield* files.readText(file)
      if (Option.isSome(stored)) return stored.value
      // removed between the two (an account deleted by hand): create it again
      return yield* createAccountKey(directoryUrl, name, keyPem)
    }
  )

  const saveAccountInfo: Records["saveAccountInfo"] = Effect.fn("Storage.saveAccountInfo")(
    function*(directoryUrl, name, info) {
      const directory = yield* accountDir(directoryUrl, name)
      const keyFile = path.join(directory, "account.key")
      // like the memory storage: the info belongs to a stored key
      if (!(yield* Effect.mapError(fs.exists(keyFile), storageError(keyFile)))) return
      const file = path.join(directory, "account.json")
      yield* files.writeAtomic(file, yield* files.encodeJson(AccountInfoJson, file, info), publicMode)
    }
  )

  const loadRolloverKey: Records["loadRolloverKey"] = Effect.fn("Storage.loadRolloverKey")(function*(directoryUrl, name) {
    return yield* files.readText(path.join(yield* accountDir(directoryUrl, name), rolloverKeyFile))
  })

  const saveRolloverKey: Records["saveRolloverKey"] = Effect.fn("Storage.saveRolloverKey")(
    function*(directoryUrl, name, keyPem) {
      const directory = yield* accountDir(directoryUrl, name)
      const file = path.join(directory, rolloverKeyFile)
      if (Option.isNone(keyPem)) {
        yield* Effect.mapError(fs.remove(file, { force: true }), storageError(file))
        return
      }
      yield* files.ensureDirectory(directory)
      yield* files.writeAtomic(file, keyPem.value, privateMode)
    }
  )

  return { loadAccount, saveAccountKey, createAccountKey, saveAccountInfo, loadRolloverKey, saveRolloverKey }
}
