/**
 * What a V8 CPU profile (`node --cpu-prof`, a `.cpuprofile` file) says about one run of the CLI, in
 * a few numbers RESULTS.md can print: a pure function over the profile's JSON and the source maps of
 * the bundle's files (profile.ts runs the commands and reads the files).
 *
 * Every sample of the main thread lasts until the next one (the last until the profile's end), and
 * falls in exactly one category:
 *
 * - idle: V8's `(idle)` node, the event loop waiting (on the CA, the file system, timers);
 * - GC: `(garbage collector)`;
 * - program: `(program)`, native code with no JavaScript on the stack (node's own start-up, V8);
 * - start-up (module loading): a JavaScript sample whose stack holds a frame of node's module
 *   loaders (url `node:internal/modules/…`: resolving, reading, `compileSourceTextModule`, linking,
 *   and `ModuleJob.run`, which evaluates an ES module's top level, also for every chunk a command
 *   loads later with `import()`; or `node:internal/bootstrap/realm`: node's built-in modules,
 *   compiled on first use), or the body of a bundled CommonJS or lazily initialised module, which
 *   esbuild wraps in a function named after the module's path (`"…/undici/index.js"(exports,
 *   module)`) and runs at its first `require`;
 * - command: every other JavaScript sample, the command's own work. The entry's top level after its
 *   `await import()` of the command tree resumes from a microtask, outside the loaders: that is the
 *   command itself, so it counts here.
 *
 * Self time goes to the innermost frame that has a script (a V8 builtin such as `JSON.parse` has
 * none, so its time goes to its caller), mapped through the source map of the bundle file it is in
 * to the original file, and from the path to its package (`node_modules/<name>`, the workspace's
 * `packages/<dir>` as `@acme/<dir>`, `apps/cli` as `@acme/cli`, `node:` urls as node internals). An
 * ES module's own top-level code (V8's anonymous frame at line 0, column 0) is one function for a
 * whole bundle chunk, and esbuild's helpers (`__commonJS`'s wrapper, whose self time includes
 * compiling the CommonJS module it runs, `__toESM`, `__export`) have no place in the source map: both
 * are shown as "(bundle: chunks' top level, esbuild's helpers)", not as a package.
 *
 * @since 0.1.0
 */
import { SourceMap, type SourceMapPayload } from "node:module"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Schema } from "effect"

/**
 * The part of a `.cpuprofile` read here.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CpuProfile = Schema.Struct({
  nodes: Schema.Array(Schema.Struct({
    id: Schema.Number,
    callFrame: Schema.Struct({
      functionName: Schema.String,
      url: Schema.String,
      lineNumber: Schema.Number,
      columnNumber: Schema.Number
    }),
    children: Schema.optional(Schema.Array(Schema.Number))
  })),
  startTime: Schema.Number,
  endTime: Schema.Number,
  samples: Schema.Array(Schema.Number),
  timeDeltas: Schema.Array(Schema.Number)
})

/**
 * The part of a source map read here (version 3, as esbuild writes it).
 *
 * @since 0.1.0
 * @category schemas
 */
export const SourceMapFile = Schema.Struct({
  version: Schema.Number,
  sources: Schema.Array(Schema.String),
  names: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  mappings: Schema.String,
  sourceRoot: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 * @category schemas
 */
export const PackageTime = Schema.Struct({
  name: Schema.String,
  startupMs: Schema.Number,
  commandMs: Schema.Number
})

/**
 * @since 0.1.0
 * @category schemas
 */
export const FunctionTime = Schema.Struct({
  name: Schema.String,
  /** the original file (repository-relative, or from the package's name on for a dependency) and line */
  location: Schema.String,
  package: Schema.String,
  selfMs: Schema.Number
})

/**
 * What RESULTS.md prints of one profile. Times in milliseconds.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Summary = Schema.Struct({
  samples: Schema.Number,
  /** the mean time between samples */
  intervalMs: Schema.Number,
  /** from the first sample to the profile's end */
  coveredMs: Schema.Number,
  idleMs: Schema.Number,
  gcMs: Schema.Number,
  programMs: Schema.Number,
  startupMs: Schema.Number,
  commandMs: Schema.Number,
  /** self time of the JavaScript samples by package, largest first */
  packages: Schema.Array(PackageTime),
  /** the functions with the most self time, largest first */
  functions: Schema.Array(FunctionTime)
})

/**
 * @since 0.1.0
 * @category models
 */
export type Summary = typeof Summary.Type

type Frame = (typeof CpuProfile.Type)["nodes"][number]["callFrame"]

/** esbuild's wrappers of bundled CommonJS / lazy ES modules are named after the module's path */
const isModuleWrapper = (name: string): boolean => /\.(?:[cm]?js|[cm]?ts|json)$/.test(name)

/** an ES module's top-level code: V8 names it "" at line 0, column 0 of the file (for a bundle chunk, of all the modules in it) */
const isModuleBody = (frame: Frame): boolean =>
  frame.functionName === "" && frame.lineNumber === 0 && frame.columnNumber === 0 && frame.url.startsWith("file:")

/**
 * The package of an ES module body's self time (a chunk's top level holds many modules') and of
 * esbuild's own helpers in the bundle (the `__commonJS` wrapper, `__toESM`, `__export`, …: no place in
 * the source map)
 */
export const bundleGlue = "(bundle: chunks' top level, esbuild's helpers)"

const isLoader = (frame: Frame): boolean =>
  frame.url.startsWith("node:internal/modules/") || frame.url === "node:internal/bootstrap/realm"

/** packages shown as one group */
const groups: ReadonlyArray<readonly [RegExp, string]> = [
  [/^@effect\/platform/, "@effect/platform*"],
  [/^(?:@peculiar\/|asn1js$|pvtsutils$|pvutils$|pkijs$|tsyringe$|reflect-metadata$|tslib$)/, "@peculiar/x509, asn1js & co"]
]

/**
 * The package a file belongs to, from its path: `node_modules/<name>` (the last one), `packages/<dir>`
 * of the workspace as `@acme/<dir>`, `apps/<dir>` as `@acme/<dir>`; `node:` urls are node's own.
 *
 * @since 0.1.0
 */
export const packageOf = (file: string): string => {
  if (file.startsWith("node:")) return "node internals"
  const parts = file.split(/[\\/]/)
  const last = parts.lastIndexOf("node_modules")
  if (last >= 0) {
    const first = parts[last + 1] ?? ""
    const name = first.startsWith("@") ? `${first}/${parts[last + 2] ?? ""}` : first
    return groups.find(([pattern]) => pattern.test(name))?.[1] ?? name
  }
  for (const top of ["packages", "apps"]) {
    const at = parts.lastIndexOf(top)
    const dir = parts[at + 1]
    if (at >= 0 && dir !== undefined && parts[at + 2] !== undefined) return `@acme/${dir}`
  }
  return "native/other"
}

/** a path as RESULTS.md shows it: from the package's name on in node_modules, else repository-relative */
const display = (file: string): string => {
  const at = file.lastIndexOf("node_modules/")
  return at >= 0 ? file.slice(at + "node_modules/".length) : file
}

interface Origin {
  readonly file: string
  readonly line: number
  /** in a bundle file with a source map, at a place the map says nothing about: esbuild's own code */
  readonly glue: boolean
}

/**
 * Summarizes a profile. `sourceMaps` holds the source map of each bundle file by the url the profile
 * names it with (`file:///…/acme-chunk-X.mjs`); `root` is the repository's folder, to which the
 * original files are made relative. `top` is how many functions to keep.
 *
 * @since 0.1.0
 */
export const summarize = (
  profile: typeof CpuProfile.Type,
  options: {
    readonly sourceMaps: ReadonlyMap<string, typeof SourceMapFile.Type>
    readonly root: string
    readonly top?: number
  }
): Summary => {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  const maps = new Map<string, SourceMap | undefined>()
  const mapOf = (url: string): SourceMap | undefined => {
    if (!maps.has(url)) {
      const file = options.sourceMaps.get(url)
      maps.set(
        url,
        file === undefined ? undefined : new SourceMap({
          file: url,
          version: file.version,
          sources: [...file.sources],
          sourcesContent: [],
          names: [...file.names],
          mappings: file.mappings,
          sourceRoot: file.sourceRoot ?? ""
        } satisfies SourceMapPayload)
      )
    }
    return maps.get(url)
  }
  const origins = new Map<string, Origin>()
  const originOf = (frame: Frame): Origin => {
    const key = `${frame.url}:${frame.lineNumber}:${frame.columnNumber}`
    const known = origins.get(key)
    if (known !== undefined) return known
    const map = frame.url.startsWith("file:") ? mapOf(frame.url) : undefined
    const found = map?.findEntry(frame.lineNumber, frame.columnNumber)
    // findEntry falls back on the last mapping before the place, even on an earlier line: a place
    // with no mapping of its own on its line is not in the map
    const entry = found !== undefined && "originalSource" in found && found.generatedLine === frame.lineNumber
      ? found
      : undefined
    const origin: Origin = entry !== undefined
      ? {
        file: path.relative(options.root, path.resolve(path.dirname(fileURLToPath(frame.url)), entry.originalSource)),
        line: entry.originalLine + 1,
        glue: false
      }
      : {
        file: frame.url.startsWith("file:") ? path.relative(options.root, fileURLToPath(frame.url)) : frame.url,
        line: frame.lineNumber + 1,
        glue: map !== undefined
      }
    origins.set(key, origin)
    return origin
  }
  // per node: its category, and for JavaScript its innermost frame with a script
  const kinds = new Map<number, { readonly kind: "idle" | "gc" | "program" | "startup" | "command"; readonly leaf?: Frame }>()
  const kindOf = (id: number) => {
    const known = kinds.get(id)
    if (known !== undefined) return known
    const node = byId.get(id)
    const name = node?.callFrame.functionName ?? "(root)"
    let result: { readonly kind: "idle" | "gc" | "program" | "startup" | "command"; readonly leaf?: Frame }
    if (node === undefined || name === "(program)" || name === "(root)") result = { kind: "program" }
    else if (name === "(idle)") result = { kind: "idle" }
    else if (name === "(garbage collector)") result = { kind: "gc" }
    else {
      let leaf: Frame | undefined
      let startup = false
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        const frame = byId.get(at)?.callFrame
        if (frame === undefined) break
        if (leaf === undefined && frame.url !== "") leaf = frame
        if (isLoader(frame) || isModuleWrapper(frame.functionName)) startup = true
      }
      result = leaf === undefined ? { kind: startup ? "startup" : "command" } : { kind: startup ? "startup" : "command", leaf }
    }
    kinds.set(id, result)
    return result
  }
  const totals = { idle: 0, gc: 0, program: 0, startup: 0, command: 0 }
  const packages = new Map<string, { startup: number; command: number }>()
  const functions = new Map<string, { name: string; location: string; package: string; self: number }>()
  let time = profile.startTime + (profile.timeDeltas[0] ?? 0)
  const count = profile.samples.length
  for (let i = 0; i < count; i++) {
    const next = i + 1 < count ? time + (profile.timeDeltas[i + 1] ?? 0) : profile.endTime
    const duration = Math.max(0, next - time) / 1000
    time = next
    const { kind, leaf } = kindOf(profile.samples[i] ?? -1)
    totals[kind] += duration
    if (kind !== "startup" && kind !== "command") continue
    const origin = leaf === undefined ? undefined : originOf(leaf)
    const pkg = origin === undefined
      ? "native/other"
      : origin.glue || (leaf !== undefined && isModuleBody(leaf))
      ? bundleGlue
      : packageOf(origin.file)
    const entry = packages.get(pkg) ?? { startup: 0, command: 0 }
    entry[kind] += duration
    packages.set(pkg, entry)
    const name = leaf === undefined || leaf.functionName === ""
      ? "(anonymous)"
      : isModuleWrapper(leaf.functionName)
      ? `(module body) ${display(leaf.functionName)}`
      : leaf.functionName
    const location = origin === undefined ? "(native)" : `${display(origin.file)}:${origin.line}`
    const key = `${name} ${location}`
    const fn = functions.get(key) ?? { name, location, package: pkg, self: 0 }
    fn.self += duration
    functions.set(key, fn)
  }
  const round = (value: number) => Math.round(value * 10) / 10
  const covered = totals.idle + totals.gc + totals.program + totals.startup + totals.command
  return {
    samples: count,
    intervalMs: count === 0 ? 0 : round((profile.endTime - profile.startTime) / 1000 / count * 100) / 100,
    coveredMs: round(covered),
    idleMs: round(totals.idle),
    gcMs: round(totals.gc),
    programMs: round(totals.program),
    startupMs: round(totals.startup),
    commandMs: round(totals.command),
    packages: [...packages]
      .map(([name, t]) => ({ name, startupMs: round(t.startup), commandMs: round(t.command) }))
      .sort((a, b) => b.startupMs + b.commandMs - (a.startupMs + a.commandMs) || (a.name < b.name ? -1 : 1)),
    functions: [...functions.values()]
      .sort((a, b) => b.self - a.self || (a.location < b.location ? -1 : 1))
      .slice(0, options.top ?? 8)
      .map((f) => ({ name: f.name, location: f.location, package: f.package, selfMs: round(f.self) }))
  }
}
