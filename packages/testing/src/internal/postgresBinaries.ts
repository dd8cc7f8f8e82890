/**
 * Where PostgreSQL's binaries are, and whether this machine can run the server: looked up without
 * an Effect so that a test file can decide at load time whether its Postgres suite runs.
 */
import * as Option from "effect/Option"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { findExecutable } from "./binaries.js"

const nonEmpty = (value: string | undefined): Option.Option<string> =>
  value !== undefined && value.length > 0 ? Option.some(value) : Option.none()

const installed = (): Array<string> => {
  try {
    return NodeFs.readdirSync("/usr/lib/postgresql")
      .filter((version) => /^\d+$/.test(version))
      .sort((a, b) => Number(b) - Number(a))
      .map((version) => NodePath.join("/usr/lib/postgresql", version, "bin"))
  } catch {
    return []
  }
}

/**
 * `configured`, else `$POSTGRES_BIN_DIR`, else the newest `/usr/lib/postgresql/<n>/bin` first, then
 * the folder of `initdb` on PATH.
 *
 * @internal
 */
export const candidates = (configured: string | undefined): ReadonlyArray<string> =>
  Option.match(Option.orElse(nonEmpty(configured), () => nonEmpty(process.env["POSTGRES_BIN_DIR"])), {
    onSome: (dir) => [dir],
    onNone: () => [...installed(), ...Option.toArray(Option.map(findExecutable("initdb"), NodePath.dirname))]
  })

/** @internal */
export const find = (configured: string | undefined): Option.Option<string> =>
  Option.fromNullable(
    candidates(configured).find((dir) => Option.isSome(findExecutable(NodePath.join(dir, "initdb"))))
  )

/** the folders looked in, for a message @internal */
export const describe = (configured: string | undefined): string => {
  const dirs = candidates(configured)
  return dirs.length === 0 ? "/usr/lib/postgresql/*/bin or on PATH" : dirs.join(", ")
}

/**
 * What this machine lacks to run the server, if anything: the binaries, or `setpriv` when the
 * tests run as root (PostgreSQL refuses to run as root).
 *
 * @internal
 */
export const missing = (configured: string | undefined): string | undefined => {
  if (Option.isNone(find(configured))) {
    return `no initdb in ${describe(configured)}; install it with: apt-get install -y postgresql`
  }
  if (process.getuid?.() === 0 && Option.isNone(findExecutable("setpriv"))) {
    return "the tests run as root and setpriv (util-linux), which runs PostgreSQL as another user, is missing"
  }
  return undefined
}
