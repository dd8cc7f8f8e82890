#!/usr/bin/env node
// Fails (exit 1) when the modules of a source folder import each other in a cycle, type-only
// imports included: `import type` still ties two modules together for a reader. Usage:
//   node scripts/checks/cycles.mjs [folder...]     default: every packages/*/src and apps/*/src
// Imports are resolved like tsc does (tsconfig.base.json: NodeNext, so "./x.js" is ./x.ts). A
// relative import that does not resolve fails the check too, since it could hide a cycle.
// Imports of other workspace packages are not followed: cycles between packages are cycles in
// the package graph, which turbo refuses to run.
import madge from "madge"
import { join, resolve } from "node:path"
import { foldersFromArgs, root } from "./sources.mjs"

const folders = foldersFromArgs(process.argv.slice(2))
let failed = false
for (const folder of folders) {
  const result = await madge(resolve(root, folder), {
    fileExtensions: ["ts", "tsx", "mts"],
    tsConfig: join(root, "tsconfig.base.json"),
    detectiveOptions: {
      ts: { skipTypeImports: false, skipAsyncImports: false },
      tsx: { skipTypeImports: false, skipAsyncImports: false }
    }
  })
  const cycles = result.circular()
  const unresolved = result.warnings().skipped.filter((specifier) => specifier.startsWith("."))
  const files = Object.keys(result.obj()).length
  if (cycles.length === 0 && unresolved.length === 0) {
    console.log(`${folder}: ${files} modules, no import cycle`)
    continue
  }
  failed = true
  for (const cycle of cycles) {
    console.error(`${folder}: import cycle: ${[...cycle, cycle[0]].join(" -> ")}`)
  }
  for (const specifier of unresolved) {
    console.error(`${folder}: cannot resolve the import "${specifier}"`)
  }
}
if (failed) {
  console.error("break a cycle by moving what both modules need into a module of its own; fix or remove a broken import")
  process.exit(1)
}
