/**
 * The text of a run checkpoint: the whole state as one JSON document (written atomically), then the
 * changes appended to it since, each on a line of its own:
 *
 *     {"version":1,"runId":"…",…,"buckets":[{…},{…},…]}
 *     {"head":{"version":1,…},"buckets":[[3,{…}]]}
 *     {"head":{"version":1,…},"buckets":[[3,{…}]]}
 *
 * A change holds the state's fields but `buckets` (all of them: a field it lacks is gone) and the
 * buckets that changed, by position. A stage changes one certificate's bucket, so a change is as
 * small as one bucket, whatever the number of certificates: appending it costs the same for a run of
 * 1,000 certificates as for a run of one, where rewriting the whole state grew with the run.
 *
 * Each change sets what it holds outright (no deltas), so applying again changes already in the
 * whole state changes nothing. The storages write a change atomically (the file storage as a file
 * of its own); should one append in place and a crash cut it short, the last line is not JSON (no
 * prefix of a JSON object is one) and is left out, the state before it being whole. The runner
 * appends only to a checkpoint it wrote whole in the same process, and writes the whole state again
 * once the changes outgrow it.
 *
 * @internal
 */
import * as Option from "effect/Option"

/** the JSON text of a change: `head` and each `[position, bucket]` already JSON text */
export const change = (head: string, buckets: ReadonlyArray<readonly [number, string]>): string =>
  `{"head":${head},"buckets":[${buckets.map(([position, bucket]) => `[${position},${bucket}]`).join(",")}]}`

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const parse = (line: string): Option.Option<unknown> => {
  try {
    return Option.some(JSON.parse(line) as unknown)
  } catch {
    return Option.none()
  }
}

/** the change a line holds, applied to `state`; None when it is not a change that fits `state` */
const apply = (state: Record<string, unknown>, value: unknown): Option.Option<Record<string, unknown>> => {
  const buckets = state["buckets"]
  if (!isRecord(value) || !isRecord(value["head"]) || !Array.isArray(value["buckets"]) || !Array.isArray(buckets)) {
    return Option.none()
  }
  const next: Array<unknown> = [...buckets]
  for (const entry of value["buckets"] as ReadonlyArray<unknown>) {
    if (!Array.isArray(entry) || entry.length !== 2) return Option.none()
    const [position, bucket] = entry as [unknown, unknown]
    if (typeof position !== "number" || !Number.isInteger(position) || position < 0 || position >= next.length) {
      return Option.none()
    }
    next[position] = bucket
  }
  return Option.some({ ...value["head"], buckets: next })
}

/**
 * The state a checkpoint's text holds, as parsed JSON (for the state's Schema to decode): the whole
 * state of the first line with every change after it applied; None when the text is damaged (a
 * line other than the last that is not a change that fits).
 */
export const compose = (text: string): Option.Option<unknown> => {
  // a whole state alone, compact or indented (as `RenewalState.encode` and earlier versions write it)
  const whole = parse(text)
  if (Option.isSome(whole)) return whole
  const lines = text.split("\n")
  const first = parse(lines[0] ?? "")
  if (lines.length === 1 || Option.isNone(first) || !isRecord(first.value)) return Option.none()
  let state: Record<string, unknown> = first.value
  for (let index = 1; index < lines.length; index++) {
    const line = lines[index] ?? ""
    const value = parse(line)
    if (Option.isNone(value)) {
      // the last line: an append cut short by a crash (or an empty line after the last change)
      if (index === lines.length - 1) break
      return Option.none()
    }
    const applied = apply(state, value.value)
    if (Option.isNone(applied)) return Option.none()
    state = applied.value
  }
  return Option.some(state)
}
