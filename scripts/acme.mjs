#!/usr/bin/env node
// `pnpm acme <command> ...`: runs the `acme` command (apps/cli/dist/acme.mjs) with these arguments.
// Rebuilds the bundle first, quietly (anything the build prints goes to stderr), when it is missing
// or older than a file under packages/*/src or apps/cli/src; so `pnpm --silent acme renew --json`
// prints only the JSON.
//
// The bundle runs in this very process: same stdin, stdout and stderr, same signals, and its exit
// code is this process's. pnpm runs scripts in the workspace root; the command runs in the folder
// pnpm was started from (INIT_CWD), so that ./acme.yaml and relative --config paths mean what the
// caller sees.
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const builder = await import(pathToFileURL(path.join(root, "apps", "cli", "build.mjs")).href)

if (builder.isStale()) {
  try {
    await builder.build()
  } catch (error) {
    process.stderr.write(
      `acme: could not build apps/cli/dist/acme.mjs: ${error instanceof Error ? error.message : String(error)}\n`
    )
    process.exit(1)
  }
}

const callerCwd = process.env.npm_lifecycle_event === "acme" ? process.env.INIT_CWD : undefined
if (callerCwd !== undefined && callerCwd.length > 0) process.chdir(callerCwd)

await import(pathToFileURL(builder.output).href)
