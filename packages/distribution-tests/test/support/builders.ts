/**
 * The CLI's build scripts for the single executable and the Debian package (apps/cli/scripts/),
 * imported as they are: the tests build what `pnpm build:sea` and `pnpm build:deb` build.
 */
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { repositoryRoot } from "./workspace.js"

interface SeaBuilder {
  /** the executable's path */
  readonly output: string
  /** builds it when missing or older than a source; true when it built */
  readonly ensureBuilt: () => Promise<boolean>
}

interface DebBuilder {
  /** builds the .deb (and the executable first, when stale); its path */
  readonly build: () => Promise<string>
}

const script = (name: string) => pathToFileURL(path.join(repositoryRoot, "apps", "cli", "scripts", name)).href

export const seaBuilder = async (): Promise<SeaBuilder> => {
  const builder: SeaBuilder = await import(script("build-sea.mjs"))
  return builder
}

export const debBuilder = async (): Promise<DebBuilder> => {
  const builder: DebBuilder = await import(script("build-deb.mjs"))
  return builder
}
