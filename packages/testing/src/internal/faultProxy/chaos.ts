/**
 * The fault proxy's seeded chaos mode: which answers to spoil and how, decided by a seed.
 *
 * Each decision is drawn from a generator seeded with the seed, the kind of request (its method
 * and first path segment: `POST /my-order/`) and how many requests of that kind came before. The
 * same seed therefore spoils the same answers the same way as long as the client sends the same
 * requests, also when the number of polls of some other resource varies from run to run.
 */
import type { AnswerHeaders, ChaosOptions, Fault } from "./model.js"

/** A small, fast, seedable generator (mulberry32) over a 32-bit state. */
const generator = (seed: number): (() => number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000
  }
}

/** FNV-1a over the text: a 32-bit seed from words. */
const hash = (text: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

type Random = () => number

const pick = <A>(random: Random, items: ReadonlyArray<A>): A => items[Math.floor(random() * items.length)] as A

/** A spoiled answer: the fault and, in words, what it does. */
export interface Mutation {
  readonly fault: Fault
  readonly description: string
}

/** The kind of a request, for the seed: `POST /my-order/`, `GET /dir`. */
export const kindOf = (method: string, path: string): string => `${method} ${/^\/[^/?]*\/?/.exec(path)?.[0] ?? path}`

const problemTypes = [
  ["badNonce", 400],
  ["rateLimited", 429],
  ["serverInternal", 500],
  ["malformed", 400],
  ["unauthorized", 403],
  ["orderNotReady", 403],
  ["accountDoesNotExist", 400],
  ["badCSR", 400],
  ["rejectedIdentifier", 400],
  ["caa", 403],
  ["userActionRequired", 403],
  ["alreadyReplaced", 409],
  ["connection", 400],
  ["compound", 403],
  ["somethingNew", 418]
] as const

const retryAfters = ["0", "1", "7", "45", "3600", "86400", "-5", "soon", "Wed, 21 Oct 2099 07:28:00 GMT", "99999999999"]

const statuses = [200, 201, 202, 204, 301, 302, 400, 401, 403, 404, 405, 409, 410, 429, 500, 502, 503, 504]

const resourceStatuses = ["pending", "ready", "processing", "valid", "invalid", "deactivated", "expired", "revoked", "bogus"]

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** Every path to a value inside a JSON document (as keys and indexes). */
const paths = (value: unknown, prefix: ReadonlyArray<string | number> = []): Array<ReadonlyArray<string | number>> => {
  const children: Array<[string | number, unknown]> = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : isRecord(value)
    ? Object.entries(value)
    : []
  return children.flatMap(([key, child]) => [[...prefix, key], ...paths(child, [...prefix, key])])
}

/** A deep copy with the value at `path` replaced (`undefined`: removed). */
const setAt = (value: unknown, path: ReadonlyArray<string | number>, replace: (old: unknown) => unknown): unknown => {
  const [head, ...rest] = path
  if (head === undefined) return replace(value)
  if (Array.isArray(value) && typeof head === "number") {
    const copy = [...value]
    const next = rest.length === 0 ? replace(copy[head]) : setAt(copy[head], rest, replace)
    if (next === undefined) copy.splice(head, 1)
    else copy[head] = next
    return copy
  }
  if (isRecord(value) && typeof head === "string") {
    const copy: Record<string, unknown> = { ...value }
    const next = rest.length === 0 ? replace(copy[head]) : setAt(copy[head], rest, replace)
    if (next === undefined) delete copy[head]
    else copy[head] = next
    return copy
  }
  return value
}

const retyped = (random: Random, old: unknown): unknown => {
  const options: ReadonlyArray<unknown> = [null, 42, -1, "", "x", true, [], {}, [old], { value: old }, String(old)]
  return pick(random, options.filter((o) => typeof o !== typeof old || Array.isArray(o) !== Array.isArray(old)))
}

/** Edits that contradict the protocol while the document still decodes. */
const contradictions = (random: Random, body: unknown): ReadonlyArray<readonly [string, unknown]> => {
  if (!isRecord(body)) return []
  const edits: Array<readonly [string, unknown]> = []
  if (typeof body.status === "string") {
    const status = pick(random, resourceStatuses)
    edits.push([`status ${status}`, { ...body, status }])
  }
  if ("finalize" in body) {
    const { certificate: _c, ...rest } = body
    edits.push(["order valid without a certificate URL", { ...rest, status: "valid" }])
    const { finalize: _f, ...noFinalize } = body
    edits.push(["order ready without finalize", { ...noFinalize, status: "ready" }])
    edits.push(["order for other identifiers", { ...body, identifiers: [{ type: "dns", value: "other.chaos.test" }] }])
    edits.push(["order pending without authorizations", { ...body, status: "pending", authorizations: [] }])
  }
  if (Array.isArray(body.challenges)) {
    const pending = body.challenges.map((c) => (isRecord(c) ? { ...c, status: "pending" } : c))
    edits.push(["authorization valid without a valid challenge", { ...body, status: "valid", challenges: pending }])
    const failed = body.challenges.map((c) =>
      isRecord(c)
        ? {
          ...c,
          status: "invalid",
          error: {
            type: "urn:ietf:params:acme:error:unauthorized",
            detail: "chaos says no",
            subproblems: [{ type: "urn:ietf:params:acme:error:dns", detail: "no such name" }]
          }
        }
        : c
    )
    edits.push(["challenge invalid, authorization pending", { ...body, status: "pending", challenges: failed }])
    edits.push(["authorization invalid", { ...body, status: "invalid", challenges: failed }])
    edits.push(["authorization for another identifier", { ...body, identifier: { type: "dns", value: "other.chaos.test" } }])
  }
  return edits
}

const jsonMutation = (random: Random): Mutation => {
  const choice = Math.floor(random() * 3)
  return {
    description: ["drop a field", "retype a field", "contradict the protocol"][choice] ?? "",
    fault: {
      _tag: "EditJson",
      edit: (body) => {
        if (choice === 2) {
          const edits = contradictions(random, body)
          return edits.length > 0 ? pick(random, edits)[1] : body
        }
        const all = paths(body)
        if (all.length === 0) return body
        const path = pick(random, all)
        return setAt(body, path, choice === 0 ? () => undefined : (old) => retyped(random, old))
      }
    }
  }
}

const headerMutation = (random: Random): Mutation => {
  const name = pick(random, ["replay-nonce", "location", "content-type", "link", "retry-after", "content-length"])
  const action = name === "content-length" ? "drop" : pick(random, ["drop", "duplicate", "empty"])
  return {
    description: `${action} header ${name}`,
    fault: {
      _tag: "EditHeaders",
      edit: (headers): AnswerHeaders => {
        const copy = { ...headers }
        const value = copy[name]
        if (action === "drop" || value === undefined) {
          delete copy[name]
          return copy
        }
        const first = typeof value === "string" ? value : value[0] ?? ""
        copy[name] = action === "empty" ? "" : [first, name === "replay-nonce" ? "Y2hhb3M" : first.replace(/.$/, "x")]
        return copy
      }
    }
  }
}

/** One spoiled answer, chosen by `random`; `origins` are the traps URLs may be rewritten to. */
const mutation = (random: Random, origins: ReadonlyArray<string>): Mutation => {
  switch (Math.floor(random() * 11)) {
    case 0: {
      const status = pick(random, statuses)
      return { description: `status ${status}`, fault: { _tag: "EditStatus", status } }
    }
    case 1: {
      const [type, status] = pick(random, problemTypes)
      const retryAfter = random() < 0.5 ? pick(random, retryAfters) : undefined
      return {
        description: `problem ${type}${retryAfter !== undefined ? ` retry-after ${retryAfter}` : ""}`,
        fault: {
          _tag: "Status",
          status,
          retryAfter,
          body: JSON.stringify({ type: `urn:ietf:params:acme:error:${type}`, detail: "chaos" })
        }
      }
    }
    case 2:
      return headerMutation(random)
    case 3: {
      const value = pick(random, retryAfters)
      return {
        description: `retry-after ${value}`,
        fault: { _tag: "EditHeaders", edit: (headers) => ({ ...headers, "retry-after": value }) }
      }
    }
    case 4:
    case 5:
      return jsonMutation(random)
    case 6:
      return random() < 0.5
        ? { description: "body cut, connection dropped", fault: { _tag: "Drop" } }
        : { description: "body cut in half", fault: { _tag: "MalformedJson" } }
    case 7: {
      const body = pick(random, ["", "<html>oops</html>", "null", "[]", "{}", "\u0000\u00ff\u0001", "{\"status\":"])
      return { description: `body ${JSON.stringify(body)}`, fault: { _tag: "ReplaceBody", body } }
    }
    case 8: {
      const millis = Math.floor(random() * 100)
      return { description: `delay ${millis} ms`, fault: { _tag: "Delay", millis } }
    }
    case 9: {
      const forward = random() < 0.5
      return {
        description: `connection reset${forward ? " after the CA answered" : ""}`,
        fault: { _tag: "Reset", forward }
      }
    }
    default: {
      const origin = pick(random, origins)
      return { description: `URLs rewritten to ${origin}`, fault: { _tag: "RewriteOrigin", origin } }
    }
  }
}

/**
 * The chaos mode's decisions: for each request, a mutation or none.
 *
 * @internal
 */
export const make = (options: ChaosOptions, origins: ReadonlyArray<string>) => {
  const seen = new Map<string, number>()
  return (method: string, path: string): Mutation | undefined => {
    if (options.paths !== undefined && !options.paths.some((prefix) => path.startsWith(prefix))) return undefined
    const kind = kindOf(method, path)
    const occurrence = seen.get(kind) ?? 0
    seen.set(kind, occurrence + 1)
    const rate = options.rate ?? pick(generator(hash(`${options.seed}/${kind}`)), [0, 0, 0, 0, 0.1, 0.25, 0.5, 1])
    const random = generator(hash(`${options.seed}/${kind}/${occurrence}`))
    return random() < rate ? mutation(random, origins) : undefined
  }
}
