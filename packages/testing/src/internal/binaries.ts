/**
 * Finding the binaries before spawning them, so a missing one is one clear line instead of ENOENT.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { PebbleError } from "../PebbleError.js"

const isExecutableFile = (path: string): boolean => {
  try {
    const stat = Fs.statSync(path, { throwIfNoEntry: false })
    if (stat === undefined || !stat.isFile()) return false
    Fs.accessSync(path, Fs.constants.X_OK)
    return true
  } catch {
    return false
  }
}

/**
 * A name with a slash is a path (relative to the working directory); a bare name is looked up on `PATH`.
 *
 * @internal
 */
export const findExecutable = (name: string): Option.Option<string> => {
  if (name.length === 0) return Option.none()
  if (name.includes("/")) {
    const path = Path.resolve(name)
    return isExecutableFile(path) ? Option.some(path) : Option.none()
  }
  const directories = (process.env["PATH"] ?? "").split(Path.delimiter).filter((dir) => dir.length > 0)
  for (const directory of directories) {
    const candidate = Path.join(directory, name)
    if (isExecutableFile(candidate)) return Option.some(candidate)
  }
  return Option.none()
}

/** @internal */
export const requireExecutable = (
  program: "pebble" | "pebble-challtestsrv",
  name: string,
  envVariable: string
): Effect.Effect<string, PebbleError> =>
  Effect.suspend(() =>
    Option.match(findExecutable(name), {
      onSome: Effect.succeed,
      onNone: () =>
        new PebbleError({
          reason: "NotInstalled",
          message: `${program} is not installed (looked for ${JSON.stringify(name)}${
            name.includes("/") ? "" : " on PATH"
          }); install it with: apt-get install -y pebble (or set ${envVariable})`
        })
    })
  )

/**
 * The nearest folder, from `start` up, that holds `pnpm-workspace.yaml`.
 *
 * @internal
 */
export const findWorkspaceRoot = (start: string): Option.Option<string> => {
  let directory = Path.resolve(start)
  for (;;) {
    if (Fs.existsSync(Path.join(directory, "pnpm-workspace.yaml"))) return Option.some(directory)
    const parent = Path.dirname(directory)
    if (parent === directory) return Option.none()
    directory = parent
  }
}

/** @internal */
export const ariPebbleBinary: Effect.Effect<Option.Option<string>> = Effect.sync(() => {
  const fromEnv = process.env["PEBBLE_ARI_BIN"]
  const found = fromEnv !== undefined && fromEnv.length > 0 ? findExecutable(fromEnv) : Option.none()
  return Option.orElse(found, () =>
    findWorkspaceRoot(process.cwd()).pipe(
      Option.map((root) => Path.join(root, ".cache", "pebble-ari", "usr", "bin", "pebble")),
      Option.filter(isExecutableFile)
    ))
})
