// Bundles src/index.ts into dist/index.js: the plugin's own code and the parts of @acme/sdk it uses
// (as a published @acme/sdk would provide them), with `effect` and `@effect/platform` left as imports
// of the installed packages.
import * as esbuild from "esbuild"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))

await esbuild.build({
  absWorkingDir: here,
  entryPoints: [path.join(here, "src", "index.ts")],
  bundle: true,
  // @acme/sdk from its TypeScript sources inside this workspace (its "@acme/source" export condition)
  conditions: ["@acme/source"],
  platform: "node",
  format: "esm",
  target: "node20",
  outfile: path.join(here, "dist", "index.js"),
  external: ["effect", "effect/*", "@effect/platform", "@effect/platform/*"],
  logLevel: "warning"
})
