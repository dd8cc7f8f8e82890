#!/usr/bin/env node
// Fails (exit 1) when a source file is longer than the limit (400 lines): one concept per module.
// Usage: node scripts/checks/lines.mjs [folder...]    default: every packages/*/src and apps/*/src
import { readdirSync, readFileSync } from "node:fs"
import { join, relative, resolve } from "node:path"
import { foldersFromArgs, root } from "./sources.mjs"

export const maxLines = 400

const sourceFiles = (folder) =>
  readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.(ts|tsx|mts|js|mjs)$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort()

const lineCount = (file) => {
  const text = readFileSync(file, "utf8")
  return text.length === 0 ? 0 : text.split("\n").length - (text.endsWith("\n") ? 1 : 0)
}

const tooLong = foldersFromArgs(process.argv.slice(2))
  .flatMap((folder) => sourceFiles(resolve(root, folder)))
  .map((file) => ({ file: relative(root, file), lines: lineCount(file) }))
  .filter(({ lines }) => lines > maxLines)

if (tooLong.length > 0) {
  for (const { file, lines } of tooLong) console.error(`${file}: ${lines} lines, more than ${maxLines}`)
  console.error("split each of them by concept into modules of their own")
  process.exit(1)
}
console.log(`no source file over ${maxLines} lines`)
