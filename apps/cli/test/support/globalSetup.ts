/**
 * Builds dist/acme.mjs before the tests run, when it is missing or older than a source file, and
 * the example plugin (examples/plugin-httpreq) that the plugin tests load.
 */
import * as path from "node:path"
import { pathToFileURL } from "node:url"

interface Builder {
  readonly ensureBuilt: () => Promise<boolean>
}

export default async function setup(): Promise<void> {
  const builder: Builder = await import(pathToFileURL(path.resolve(import.meta.dirname, "../../build.mjs")).href)
  await builder.ensureBuilt()
  // the plugin's build script builds when imported
  await import(pathToFileURL(path.resolve(import.meta.dirname, "../../../../examples/plugin-httpreq/build.mjs")).href)
}
