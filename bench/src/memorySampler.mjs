/**
 * Preloaded (`node --import`) into a profiled run of the benchmarks, never part of the CLI: samples
 * the process's resident memory every 10 ms and, as the process exits, writes what it was made of at
 * its highest sample (`process.memoryUsage()` and the size of each V8 heap space then) to the file
 * `BENCH_MEMORY_FILE` names. The timer is unref'd: it never keeps the process alive.
 */
import * as fs from "node:fs"
import * as v8 from "node:v8"

const file = process.env["BENCH_MEMORY_FILE"]
if (file !== undefined && file.length > 0) {
  let peak
  const sample = () => {
    const rss = process.memoryUsage.rss()
    if (peak !== undefined && rss <= peak.rss) return
    const usage = process.memoryUsage()
    peak = {
      rss: Math.max(rss, usage.rss),
      heapTotal: usage.heapTotal,
      heapUsed: usage.heapUsed,
      external: usage.external,
      arrayBuffers: usage.arrayBuffers,
      spaces: Object.fromEntries(v8.getHeapSpaceStatistics().map((space) => [space.space_name, space.space_size]))
    }
  }
  sample()
  setInterval(sample, 10).unref()
  process.on("exit", () => {
    sample()
    fs.writeFileSync(file, JSON.stringify(peak))
  })
}
