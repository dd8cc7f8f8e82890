/**
 * A strict parser of the Prometheus text exposition format (0.0.4): every sample must belong to a
 * family declared by `# TYPE` before it, names and labels must be well formed, values numbers.
 * Anything else throws, naming the line.
 */

export interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

export interface Family {
  readonly name: string
  readonly type: "counter" | "gauge" | "histogram" | "summary" | "untyped"
  readonly help: string | undefined
  readonly samples: Array<Sample>
}

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+(-?\d+))?$/
const labelPair = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)/y

const parseValue = (text: string, line: number): number => {
  if (text === "+Inf") return Infinity
  if (text === "-Inf") return -Infinity
  if (text === "NaN") return NaN
  const value = Number(text)
  if (text.length === 0 || Number.isNaN(value)) throw new Error(`line ${line}: "${text}" is not a number`)
  return value
}

const parseLabels = (text: string, line: number): Record<string, string> => {
  const labels: Record<string, string> = {}
  labelPair.lastIndex = 0
  while (labelPair.lastIndex < text.length) {
    const start = labelPair.lastIndex
    const match = labelPair.exec(text)
    if (match === null || match.index !== start) throw new Error(`line ${line}: bad labels {${text}}`)
    const [, key, raw] = match
    if (key === undefined || raw === undefined) throw new Error(`line ${line}: bad labels {${text}}`)
    if (key in labels) throw new Error(`line ${line}: label ${key} twice`)
    labels[key] = raw.replace(/\\n/g, "\n").replace(/\\"/g, "\"").replace(/\\\\/g, "\\")
  }
  return labels
}

/** the family a sample belongs to: its name, or the name without a histogram/summary suffix */
const familyOf = (families: Map<string, Family>, name: string): Family | undefined =>
  families.get(name) ??
    [...families.values()].find((family) =>
      (family.type === "histogram" && [`${family.name}_bucket`, `${family.name}_sum`, `${family.name}_count`].includes(name)) ||
      (family.type === "summary" && [`${family.name}_sum`, `${family.name}_count`].includes(name))
    )

export const parse = (text: string): Map<string, Family> => {
  const families = new Map<string, Family>()
  const help = new Map<string, string>()
  for (const [index, raw] of text.split("\n").entries()) {
    const line = index + 1
    if (raw.trim().length === 0) continue
    if (raw.startsWith("#")) {
      const comment = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(raw)
      if (comment === null) continue
      const [, kind, name, rest] = comment
      if (name === undefined || !metricName.test(name)) throw new Error(`line ${line}: bad metric name`)
      if (kind === "HELP") help.set(name, rest ?? "")
      else {
        if (!["counter", "gauge", "histogram", "summary", "untyped"].includes(rest ?? "")) {
          throw new Error(`line ${line}: unknown type ${rest}`)
        }
        if (families.has(name)) throw new Error(`line ${line}: ${name} declared twice`)
        families.set(name, { name, type: rest as Family["type"], help: help.get(name), samples: [] })
      }
      continue
    }
    const match = sampleLine.exec(raw)
    if (match === null) throw new Error(`line ${line}: not a sample: ${raw}`)
    const [, name, labels, value] = match
    if (name === undefined || value === undefined) throw new Error(`line ${line}: not a sample: ${raw}`)
    const family = familyOf(families, name)
    if (family === undefined) throw new Error(`line ${line}: ${name} has no # TYPE before it`)
    family.samples.push({ name, labels: labels === undefined ? {} : parseLabels(labels, line), value: parseValue(value, line) })
  }
  return families
}
