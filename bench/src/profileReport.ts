/**
 * The "Profile" subsections of RESULTS.md (issue 14): for each target, where the time of one more
 * run under `node --cpu-prof` went (profile.ts, profileSummary.ts), and what meeting the target would
 * need. The sentences are fixed per target; every number in them comes from the profile.
 *
 * @since 0.1.0
 */
import type { MemoryPeak, Profiled } from "./profile.js"

const ms = (value: number): string => (Number.isFinite(value) ? value < 10 ? value.toFixed(1) : value.toFixed(0) : "–")
const percent = (part: number, whole: number): string => (whole > 0 ? `${((part / whole) * 100).toFixed(0)}%` : "–")

type Summary = Profiled["summary"]

const busy = (s: Summary): number => s.coveredMs - s.idleMs

/** the packages with the most self time in the command's own work, as "effect 120 ms, …" */
const largestInCommand = (s: Summary, count: number): string =>
  [...s.packages]
    .sort((a, b) => b.commandMs - a.commandMs)
    .slice(0, count)
    .map((p) => `${p.name} ${ms(p.commandMs)} ms`)
    .join(", ")

/**
 * What meeting each target would need, from its profile; `nodeWallMs` is `node -e ""`'s median wall
 * time in the same run.
 */
const needed = (p: Profiled, nodeWallMs: number): string => {
  const s = p.summary
  const loading = `module loading (compile and top-level evaluation) is ${ms(s.startupMs)} ms, ${percent(s.startupMs, busy(s))} of the busy time`
  switch (p.target) {
    case "noop-renew":
    case "noop-status": {
      const target = 2 * nodeWallMs
      return `the target is ${ms(target)} ms wall (2× \`node -e ""\`); ${loading}, GC and (program) ${
        ms(s.gcMs + s.programMs)
      } ms, the command's own work ${ms(s.commandMs)} ms (largest: ${largestInCommand(s, 3)}). ${
        s.startupMs >= target
          ? "Module loading alone is over the target, so no change to the command's own work can meet it;"
          : `Module loading alone uses ${percent(s.startupMs, target)} of the target;`
      } a V8 start-up snapshot of the loaded modules was measured and dropped (README.md, "(e)": about −20% CPU, since loading the 12 MB snapshot costs much of the compile it saves, and the run's own work stays). What would be needed is a run with nothing due that does not load Effect's runtime, the command tree and the SDK at all (planning from \`metadata.json\` in plain code): a second implementation of scan and plan next to the pipeline's.`
    }
    case "one-new":
      return `the target is 150 ms wall; ${loading}, the issuance's own work ${ms(s.commandMs)} ms (largest: ${
        largestInCommand(s, 3)
      }), GC ${ms(s.gcMs)} ms, idle ${ms(s.idleMs)} ms (the CA's answers, poll waits, fsync). 150 ms would need all of them cut: module loading close to nothing (neither the code cache nor a start-up snapshot does that: README.md, "(d)" and "(e)"), the waits gone, and the work itself several times smaller.`
    case "batch": {
      const n = Math.max(1, p.certificates)
      return `per certificate, start-up excluded (module loading ${ms(s.startupMs)} ms once): the command's own work ${
        ms(s.commandMs / n)
      } ms, GC ${ms(s.gcMs / n)} ms, idle ${ms(s.idleMs / n)} ms. 25 ms of CPU per certificate needs the command's work and GC ${
        ((s.commandMs + s.gcMs) / n / 25).toFixed(1)
      }× smaller (largest: ${largestInCommand(s, 4)}); 30 ms wall also needs the idle time per certificate (poll waits, fsync) to go. Each stage still ends in a checkpoint under the storage lock, with a temp file, two fsyncs and a rename; it holds only the change since the last one (one bucket, appended), so its cost no longer grows with the run's certificates, but it is paid about eight times per certificate: fewer checkpoints per certificate (merging stages) or a storage that commits without fsync per stage would be the next design change.`
    }
    case "status-scale": {
      const n = Math.max(1, p.certificates)
      const rest = s.coveredMs - s.startupMs
      return `the target is 2 s; ${loading}, the command's own work ${ms(s.commandMs)} ms (${
        ms(s.commandMs / n)
      } ms per certificate; largest: ${largestInCommand(s, 4)}), GC ${ms(s.gcMs)} ms, idle ${ms(s.idleMs)} ms. ${
        s.startupMs >= 2000
          ? "Module loading alone is over 2 s in this profile."
          : `After module loading, 2 s leaves ${ms((2000 - s.startupMs) / n)} ms per certificate for the command, GC and waiting; this profile spends ${
            ms(rest / n)
          } ms: ${rest > 2000 - s.startupMs ? `${(rest / (2000 - s.startupMs)).toFixed(1)}× too much, in the packages above` : "within it"}.`
      }`
    }
    default:
      return "no target is written down for this profile."
  }
}

const mib = (bytes: number): string => (bytes / 1048576).toFixed(0)

/**
 * What the memory was made of at a run's highest RSS, and what 100 MiB would need (the peak RSS
 * target).
 *
 * @since 0.1.0
 */
export const memoryText = (m: MemoryPeak): string => {
  const space = (name: string) => m.spaces[name] ?? 0
  const named = space("new_space") + space("old_space") + space("code_space") + space("large_object_space")
  const outside = Math.max(0, m.rss - m.heapTotal)
  const over = m.rss / 1048576 - 100
  return `${mib(m.rss)} MiB resident = V8's heap ${
      mib(m.heapTotal)
    } MiB (${mib(m.heapUsed)} MiB of it in use; new space ${mib(space("new_space"))}, old space ${
      mib(space("old_space"))
    }, code ${mib(space("code_space"))}, large objects ${mib(space("large_object_space"))}, other spaces ${
      mib(Math.max(0, m.heapTotal - named))
    }) + ${mib(outside)} MiB outside it (of which ${
      mib(m.external)
    } MiB external memory, ${mib(m.arrayBuffers)} MiB of it ArrayBuffers: TLS, sockets, file contents; the rest is node itself, its compiled code and thread stacks, and undici's WASM parser). ${
      over <= 0
        ? "Within the 100 MiB target."
        : `The 100 MiB target needs ${over.toFixed(0)} MiB less: ${
          outside > m.heapTotal
            ? `most of the peak is outside V8's heap (${
              mib(outside)
            } MiB; node alone holds about 35 MiB there): native memory (the buffers of reads and writes, TLS, compiled code), which only fewer and smaller writes and fewer modules loaded would lower`
            : m.heapTotal - m.heapUsed > over * 1048576
            ? `the heap holds ${mib(m.heapTotal - m.heapUsed)} MiB it does not use (garbage not yet collected and room V8 keeps), so a smaller heap would do (a smaller young generation, \`--max-semi-space-size\`, trades CPU for it: see README.md)`
            : "more than the unused part of the heap, so fewer modules loaded (less code and fewer objects made at start) as well as a smaller heap"
        }.`
    }`
}

const memoryLines = (p: Profiled): Array<string> =>
  p.memory === undefined ? [] : [`Memory at the highest RSS of this run (sampled every 10 ms): ${memoryText(p.memory)}`, ""]

/**
 * One target's "Profile" subsection, in Markdown lines.
 *
 * @since 0.1.0
 */
export const section = (p: Profiled, title: string, nodeWallMs: number): Array<string> => {
  const s = p.summary
  const js = s.startupMs + s.commandMs
  const shown = s.packages.slice(0, 8)
  const rest = s.packages.slice(8)
  const cell = (value: number) => `${ms(value)} (${percent(value, s.coveredMs)})`
  return [
    `#### Profile: ${title}`,
    "",
    `\`${p.command}\`, once more after the measured runs: ${ms(p.wallMs)} ms wall, ${ms(p.cpuMs)} ms CPU, ${
      (p.maxRssKiB / 1024).toFixed(0)
    } MiB peak RSS (the profiler adds to all three), ${p.requests} CA requests; ${s.samples} samples, one every ${
      s.intervalMs.toFixed(2)
    } ms on average. Raw profile: \`${p.file}\`.`,
    "",
    "| covered, ms (100%) | idle | busy: module loading | busy: the command | busy: GC | busy: (program) |",
    "| ---: | ---: | ---: | ---: | ---: | ---: |",
    `| ${ms(s.coveredMs)} | ${cell(s.idleMs)} | ${cell(s.startupMs)} | ${cell(s.commandMs)} | ${cell(s.gcMs)} | ${cell(s.programMs)} |`,
    "",
    "| package (self time of the JavaScript samples) | module loading (ms) | the command (ms) | share of JavaScript |",
    "| --- | ---: | ---: | ---: |",
    ...shown.map((pkg) =>
      `| ${pkg.name} | ${ms(pkg.startupMs)} | ${ms(pkg.commandMs)} | ${percent(pkg.startupMs + pkg.commandMs, js)} |`
    ),
    ...(rest.length === 0 ? [] : [
      `| ${rest.length} others | ${ms(rest.reduce((sum, x) => sum + x.startupMs, 0))} | ${
        ms(rest.reduce((sum, x) => sum + x.commandMs, 0))
      } | ${percent(rest.reduce((sum, x) => sum + x.startupMs + x.commandMs, 0), js)} |`
    ]),
    "",
    "| function (most self time) | where (original source) | package | self (ms) |",
    "| --- | --- | --- | ---: |",
    ...s.functions.map((f) => `| \`${f.name.replace(/\|/g, "\\|")}\` | ${f.location} | ${f.package} | ${ms(f.selfMs)} |`),
    "",
    `What would be needed: ${needed(p, nodeWallMs)}`,
    "",
    ...memoryLines(p)
  ]
}

/**
 * The introduction of the profiles, once per RESULTS.md.
 *
 * @since 0.1.0
 */
export const introduction: ReadonlyArray<string> = [
  "Each target's command ran once more, after its measured runs, under `node --cpu-prof` (see",
  "[README.md](README.md#profiles)), from a build of the same sources with source maps. Busy time is split",
  "into module loading (a sample whose stack holds node's module loader, `node:internal/modules/…`, or a",
  "bundled module's body: compiling, linking and evaluating modules' top level, also for chunks loaded",
  "later by `import()`), the command's own JavaScript, GC and `(program)` (native code with no JavaScript",
  "on the stack); idle is the event loop waiting (CA, file system, timers). Self time goes to the innermost",
  "JavaScript frame, mapped to its original file and package. The profiler slows the process down: the",
  "measured rows above are the numbers of the targets, the profile says how the time divides. The same run",
  "samples its memory every 10 ms (`memorySampler.mjs`, preloaded with `--import`) and says what the highest",
  "RSS was made of. CA requests are the measured ones above.",
  ""
]

/** RESULTS.md's title of each profiled target */
export const titles: Readonly<Record<string, (p: Profiled) => string>> = {
  "noop-renew": (p) => `\`acme renew\`, ${p.certificates} stored certificates, nothing due`,
  "noop-status": (p) => `\`acme status\`, ${p.certificates} certificates`,
  "one-new": () => "one new certificate per process",
  batch: (p) => `one \`acme renew\` of ${p.certificates} new certificates (always-valid)`,
  "status-scale": (p) => `\`acme status --json\` over ${p.certificates} certificates`
}

/**
 * The subsections of the profiles among `profiles` whose target is one of `targets`, in that order.
 *
 * @since 0.1.0
 */
export const sections = (
  profiles: ReadonlyArray<Profiled>,
  targets: ReadonlyArray<string>,
  nodeWallMs: number
): Array<string> =>
  targets.flatMap((target) => {
    const p = profiles.find((x) => x.target === target)
    return p === undefined ? [] : section(p, titles[target]?.(p) ?? target, nodeWallMs)
  })
