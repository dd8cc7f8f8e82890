/**
 * The leftovers of key rollovers by older versions, cleaned up when the storage is made. Those kept
 * the new key as an account of its own, `accounts/<ca>/<name>-rollover/account.key`, and left it
 * there: a name an operator may give a real account (`account.name: default-rollover` then found
 * the key, and so the account, of `default`). Now the key of a rollover in progress is
 * `accounts/<ca>/<name>/rollover.key`, inside the account it belongs to.
 *
 * A leftover is a `<name>-rollover` folder that holds `account.key` and no `account.json` (a key
 * that was never registered as an account of its own) next to an account `<name>`: its key becomes
 * `<name>/rollover.key` when it differs from `<name>`'s key and `<name>` has no rollover key yet (a
 * rollover that may still need completing), and the folder is removed.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { rolloverKeyFile } from "./accounts.js"
import type { Files } from "./files.js"
import type { Layout } from "./layout.js"

const suffix = "-rollover"

/** @internal */
export const cleanRolloverLeftovers = (files: Files, layout: Layout): Effect.Effect<void> => {
  const { fs, path } = files
  const list = (directory: string) => fs.readDirectory(directory).pipe(Effect.orElseSucceed((): Array<string> => []))
  const read = (file: string) => files.readText(file).pipe(Effect.orElseSucceed(() => Option.none<string>()))

  const clean = (ca: string, leftover: string) =>
    Effect.gen(function*() {
      const folder = path.join(ca, leftover)
      const owner = path.join(ca, leftover.slice(0, -suffix.length))
      const key = yield* read(path.join(folder, "account.key"))
      if (Option.isNone(key) || Option.isSome(yield* read(path.join(folder, "account.json")))) return
      const ownerKey = yield* read(path.join(owner, "account.key"))
      if (Option.isNone(ownerKey)) return
      const target = path.join(owner, rolloverKeyFile)
      if (key.value !== ownerKey.value && Option.isNone(yield* read(target))) {
        yield* fs.rename(path.join(folder, "account.key"), target)
        yield* files.syncDirectory(owner)
      }
      yield* fs.remove(folder, { recursive: true })
      yield* Effect.logInfo(`moved the key rollover leftover ${folder} into ${owner}`)
    }).pipe(
      // best effort: a leftover that cannot be moved now stays for the next time
      Effect.catchAll((error) => Effect.logDebug(`rollover leftover in ${ca}: ${error.message}`))
    )

  return Effect.flatMap(list(layout.accountsRoot), (cas) =>
    Effect.forEach(cas, (caName) => {
      const ca = path.join(layout.accountsRoot, caName)
      return Effect.flatMap(list(ca), (entries) =>
        Effect.forEach(
          entries.filter((entry) => entry.endsWith(suffix) && entry.length > suffix.length),
          (leftover) => clean(ca, leftover),
          { discard: true }
        ))
    }, { discard: true }))
}
