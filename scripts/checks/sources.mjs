// The source folders the structure checks cover: every package's and app's `src`.
import { existsSync, readdirSync } from "node:fs"
import { join, resolve } from "node:path"

export const root = resolve(import.meta.dirname, "..", "..")

/** `packages/<name>/src` and `apps/<name>/src`, relative to the workspace root, sorted */
export const sourceFolders = () =>
  ["packages", "apps"].flatMap((parent) =>
    readdirSync(join(root, parent), { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && existsSync(join(root, parent, entry.name, "src")))
      .map((entry) => `${parent}/${entry.name}/src`)
  ).sort()

/** the folders named on the command line, else every source folder */
export const foldersFromArgs = (args) => (args.length > 0 ? args : sourceFolders())
