/**
 * Decides, for each certificate, whether to renew now or later, and says why in plain words.
 *
 * The deterministic planner, in order:
 * 1. `--force`, no certificate yet, a revoked certificate, another CA, or a config change (names,
 *    key type, profile): renew now.
 * 2. The CA's ARI suggested window (RFC 9773) when known: renew once a time chosen inside the window
 *    has come (§4.2), or at once when the window has passed. A stale or absurd window (one that
 *    began before the certificate was issued, that ends before it starts, or that begins after the
 *    certificate expires: `RenewalInfo.windowProblem`) is ignored, and the reason says so: following
 *    it would renew every new certificate at once.
 * 3. Otherwise by lifetime: renew when less than a third of it is left (half for lifetimes of 10 days
 *    or less), or `renewal.daysBefore` days before expiry when set; a little earlier by a jitter of up
 *    to 2% of the lifetime (at most a day), so that many machines do not renew at the same minute.
 *
 * An advisory planner (an LLM, in `@acme/ai`) runs this deterministic plan first and may then only
 * change the ORDER in which the certificates that are due are renewed, and add an explanation to
 * each: {@link advise} is the guard every advisory planner goes through. Certificates its answer
 * invents are dropped, certificates it forgets keep their deterministic decision, and a renew/skip
 * it disagrees on is reported and ignored; {@link fallback} is the plan when its answer is unusable.
 *
 * "Chosen" and "jitter" are derived from a hash of the certificate, not drawn at random: the plan for
 * the same certificate is the same on every run (and every run of `acme status` agrees with
 * `acme renew`), while different certificates spread over the window.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type { CertificateName } from "./CertificateName.js"
import * as Identifier from "./Identifier.js"
import * as RenewalInfo from "./RenewalInfo.js"
import type { Current, Decision, Disagreement, PlannerOutcome } from "./RenewalState.js"

/**
 * What the planner knows about one certificate.
 *
 * @since 0.1.0
 * @category models
 */
export interface Input {
  readonly name: CertificateName
  /** what the configuration asks for */
  readonly identifiers: ReadonlyArray<Identifier.Identifier>
  readonly keyType: string
  readonly profile: string | undefined
  readonly directoryUrl: string
  /** what is stored now, with the CA's renewal info when it gave one */
  readonly current: Option.Option<Current>
  readonly force: boolean
  /** the last error of this certificate in the previous run, one line, when it failed there */
  readonly lastError?: string | undefined
  /**
   * the configuration's `renewal.daysBefore`: renew this many days before expiry instead of by the
   * fraction of the lifetime (the renewal pipeline fills it in from `RenewalSettings`)
   */
  readonly daysBefore?: number | undefined
}

/**
 * A plan: one decision per input, the order in which the certificates that are due are renewed,
 * and how the plan was made.
 *
 * @since 0.1.0
 * @category models
 */
export interface Plan {
  /** one per input, in the order of the inputs */
  readonly decisions: ReadonlyArray<Decision>
  /** the names of the certificates to renew, in the order to renew them */
  readonly order: ReadonlyArray<string>
  readonly outcome: PlannerOutcome
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Never fails: an advisory planner that cannot be used falls back to the deterministic plan. */
  readonly plan: (inputs: ReadonlyArray<Input>) => Effect.Effect<Plan>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Planner extends Context.Tag("@acme/sdk/Planner")<Planner, Service>() {}

/**
 * A number in [0, 1) derived from a text: stable across runs and machines, and spread evenly. It
 * only spreads renewals (no secret, no adversary), so a 32-bit FNV-1a with murmur3's finalizer does:
 * synchronous and cheap, where a SHA-256 per certificate cost 0.3 s of `acme status` over 10,000.
 */
const fraction = (text: string): Effect.Effect<number> =>
  Effect.sync(() => {
    let hash = 0x811c9dc5
    for (const byte of new TextEncoder().encode(text)) hash = Math.imul(hash ^ byte, 0x01000193)
    hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b)
    hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35)
    return ((hash ^ (hash >>> 16)) >>> 0) / 2 ** 32
  })

const formatTime = (time: DateTime.Utc): string =>
  DateTime.formatIso(time).replace(/:\d\d(\.\d+)?Z$/, "Z").replace("T", " ").replace("Z", " UTC")

const formatSpan = (millis: number): string => {
  const days = millis / 86_400_000
  // floored, so that "days left" never promises more than there is
  if (Math.abs(days) >= 10) return `${Math.floor(days)} days`
  if (Math.abs(days) >= 2) return `${Math.floor(days * 10) / 10} days`
  const hours = millis / 3_600_000
  if (Math.abs(hours) >= 2) return `${Math.round(hours)} hours`
  return `${Math.max(0, Math.round(millis / 60_000))} minutes`
}

const parseTime = (text: string): Option.Option<DateTime.Utc> => DateTime.make(text)

const changes = (input: Input, current: Current): Option.Option<string> => {
  if (current.directoryUrl !== input.directoryUrl) {
    return Option.some(`the CA changed (the certificate came from ${current.directoryUrl})`)
  }
  const wanted = input.identifiers.map(Identifier.format)
  const held = current.identifiers.map(Identifier.format)
  const added = wanted.filter((id) => !held.includes(id)).map((id) => id.replace(/^\w+:/, ""))
  const removed = held.filter((id) => !wanted.includes(id)).map((id) => id.replace(/^\w+:/, ""))
  if (added.length > 0 || removed.length > 0) {
    const parts = [
      added.length > 0 ? `added ${added.join(", ")}` : undefined,
      removed.length > 0 ? `removed ${removed.join(", ")}` : undefined
    ].filter((part) => part !== undefined)
    return Option.some(`the names changed (${parts.join("; ")})`)
  }
  if (current.keyType !== input.keyType) {
    return Option.some(`the key type changed from ${current.keyType} to ${input.keyType}`)
  }
  if ((current.profile ?? undefined) !== input.profile) {
    return Option.some(`the profile changed from ${current.profile ?? "none"} to ${input.profile ?? "none"}`)
  }
  return Option.none()
}

/**
 * The decision for one certificate at time `now`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const decide = (input: Input, now: DateTime.Utc): Effect.Effect<Decision> =>
  Effect.gen(function*() {
    const renew = (reason: string, extra: Partial<Decision> = {}): Decision => ({
      action: "renew",
      reason,
      renewAt: DateTime.formatIso(now),
      ...extra
    })
    if (Option.isNone(input.current)) {
      return renew(input.force ? "forced (--force); there is no certificate yet" : "there is no certificate yet")
    }
    const current = input.current.value
    // only a certificate from this CA can be named in `replaces`
    const replaces = current.directoryUrl === input.directoryUrl && current.revokedAt === undefined
      ? current.certId
      : undefined
    const withReplaces = replaces !== undefined ? { replaces } : {}
    if (input.force) return renew("forced (--force)", withReplaces)
    if (current.revokedAt !== undefined) return renew(`the certificate was revoked (${current.revokedAt})`)
    const changed = changes(input, current)
    if (Option.isSome(changed)) return renew(changed.value, withReplaces)

    const notBefore = parseTime(current.notBefore)
    const notAfter = parseTime(current.notAfter)
    if (Option.isNone(notBefore) || Option.isNone(notAfter)) {
      return renew("the stored certificate's dates cannot be read", withReplaces)
    }
    const nowMillis = DateTime.toEpochMillis(now)
    const expires = DateTime.toEpochMillis(notAfter.value)
    if (expires <= nowMillis) {
      return renew(`the certificate expired on ${formatTime(notAfter.value)}`, withReplaces)
    }

    const window = current.renewalInfo
    // a stale or absurd window (RenewalInfo.windowProblem) is set aside for the lifetime rule
    const setAside = window === undefined ? Option.none() : RenewalInfo.windowProblem(window, current)
    if (window !== undefined && Option.isNone(setAside)) {
      const start = parseTime(window.start)
      const end = parseTime(window.end)
      if (Option.isSome(start) && Option.isSome(end)) {
        const from = DateTime.toEpochMillis(start.value)
        const to = DateTime.toEpochMillis(end.value)
        const chosen = from + Math.max(0, to - from) * (yield* fraction(`${current.serialNumber}/${window.start}`))
        const span = `${formatTime(start.value)} – ${formatTime(end.value)}`
        const at = DateTime.unsafeMake(chosen)
        if (to <= nowMillis) {
          return renew(`the CA's suggested renewal window (${span}) has passed`, withReplaces)
        }
        if (chosen <= nowMillis) {
          return renew(`inside the CA's suggested renewal window (${span})`, {
            ...withReplaces,
            renewAt: DateTime.formatIso(at)
          })
        }
        return {
          action: "skip",
          reason: `the CA suggests renewing between ${span}; planned for ${formatTime(at)}, in ${
            formatSpan(chosen - nowMillis)
          }`,
          renewAt: DateTime.formatIso(at)
        }
      }
    }

    const lifetime = expires - DateTime.toEpochMillis(notBefore.value)
    const short = lifetime <= Duration.toMillis(Duration.days(10))
    const before = input.daysBefore !== undefined
      ? Duration.toMillis(Duration.days(input.daysBefore))
      : lifetime / (short ? 2 : 3)
    const jitter = Math.min(lifetime * 0.02, Duration.toMillis(Duration.days(1))) *
      (yield* fraction(`${current.serialNumber}/jitter`))
    const renewAt = expires - before - jitter
    const rule = input.daysBefore !== undefined
      ? `${input.daysBefore} days before expiry (renewal.daysBefore)`
      : short
      ? "when half of its short lifetime is left"
      : "when a third of its lifetime is left"
    const shown = (text: string) => Option.match(parseTime(text), { onNone: () => text, onSome: formatTime })
    const ignored = window === undefined || Option.isNone(setAside)
      ? ""
      : `the CA's suggested renewal window (${shown(window.start)} – ${shown(window.end)}) is ignored: ${setAside.value}; by lifetime: `
    const left = `${ignored}${formatSpan(expires - nowMillis)} left of ${formatSpan(lifetime)}`
    if (renewAt <= nowMillis) {
      return renew(`${left}; due ${rule}`, { ...withReplaces, renewAt: DateTime.formatIso(DateTime.unsafeMake(renewAt)) })
    }
    return {
      action: "skip",
      reason: `${left}; renewal planned for ${formatTime(DateTime.unsafeMake(renewAt))} (${rule})`,
      renewAt: DateTime.formatIso(DateTime.unsafeMake(renewAt))
    }
  })

/**
 * The outcome of the deterministic planner.
 *
 * @since 0.1.0
 * @category constructors
 */
export const deterministicOutcome: PlannerOutcome = {
  provider: "deterministic",
  fallback: false,
  dropped: [],
  restored: [],
  disagreements: []
}

const dueInInputOrder = (inputs: ReadonlyArray<Input>, decisions: ReadonlyArray<Decision>): Array<string> =>
  inputs.flatMap((input, index) => decisions[index]?.action === "renew" ? [input.name] : [])

/**
 * The deterministic planner.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (): Service => ({
  plan: (inputs) =>
    Effect.flatMap(DateTime.now, (now) =>
      Effect.map(Effect.forEach(inputs, (input) => decide(input, now)), (decisions) => ({
        decisions,
        order: dueInInputOrder(inputs, decisions),
        outcome: deterministicOutcome
      })))
})

/**
 * What an advisory planner answered, once decoded: an entry per certificate, in the order it
 * suggests.
 *
 * @since 0.1.0
 * @category models
 */
export interface Advice {
  readonly certificates: ReadonlyArray<{
    readonly name: string
    readonly action: "renew" | "skip"
    readonly explanation?: string | undefined
  }>
}

/**
 * Who advised: goes into the plan's outcome.
 *
 * @since 0.1.0
 * @category models
 */
export interface Advisor {
  readonly provider: string
  readonly model?: string | undefined
}

/** A text from the advisor as it may appear in a report: one line, at most `max` characters. */
const oneLine = (text: string, max: number = 300): string | undefined => {
  const line = text.replace(/\s+/g, " ").trim()
  if (line.length === 0) return undefined
  return line.length > max ? `${line.slice(0, max - 1)}…` : line
}

/** at most this many invented names are listed */
const maxDropped = 20

/**
 * The guard in front of every advisory planner. The deterministic `plan` decides; the advice may
 * only order the certificates that are due and explain:
 *
 * - names the advice invents (not among the inputs) are dropped, and listed in `dropped`;
 * - inputs the advice leaves out keep their deterministic decision, are renewed after the ones it
 *   ordered (in the inputs' order), and are listed in `restored`;
 * - an advised action that differs from the deterministic one is ignored and listed in
 *   `disagreements`; so exactly the certificates that are due are renewed, whatever the advice.
 *
 * @since 0.1.0
 * @category combinators
 */
export const advise = (
  inputs: ReadonlyArray<Input>,
  plan: Plan,
  advice: Advice,
  advisor: Advisor
): Plan => {
  const decisionOf = new Map<string, Decision | undefined>(inputs.map((input, index) => [input.name, plan.decisions[index]]))
  const seen = new Set<string>()
  const dropped: Array<string> = []
  const disagreements: Array<Disagreement> = []
  const explanations = new Map<string, string>()
  const advisedOrder: Array<string> = []
  for (const entry of advice.certificates) {
    const decision = decisionOf.get(entry.name)
    if (decision === undefined) {
      const name = oneLine(entry.name, 80) ?? "(empty name)"
      if (!dropped.includes(name) && dropped.length < maxDropped) dropped.push(name)
      continue
    }
    if (seen.has(entry.name)) continue
    seen.add(entry.name)
    advisedOrder.push(entry.name)
    if (entry.action !== decision.action) {
      disagreements.push({ name: entry.name, advised: entry.action, kept: decision.action })
    }
    const explanation = entry.explanation === undefined ? undefined : oneLine(entry.explanation)
    if (explanation !== undefined) explanations.set(entry.name, explanation)
  }
  const restored = inputs.map((input) => input.name).filter((name) => !seen.has(name))
  const due = new Set(dueInInputOrder(inputs, plan.decisions))
  const order = [...advisedOrder.filter((name) => due.has(name)), ...restored.filter((name) => due.has(name))]
  return {
    decisions: inputs.map((input, index): Decision => {
      const decision = plan.decisions[index] ?? { action: "renew", reason: "no decision" }
      const explanation = explanations.get(input.name)
      return explanation === undefined ? decision : { ...decision, explanation }
    }),
    order,
    outcome: {
      provider: advisor.provider,
      model: advisor.model,
      fallback: false,
      dropped,
      restored,
      disagreements
    }
  }
}

/**
 * The deterministic plan, as an advisory planner's outcome when its answer could not be used.
 *
 * @since 0.1.0
 * @category combinators
 */
export const fallback = (plan: Plan, advisor: Advisor, reason: string): Plan => ({
  ...plan,
  outcome: {
    provider: advisor.provider,
    model: advisor.model,
    fallback: true,
    fallbackReason: reason,
    dropped: [],
    restored: [],
    disagreements: []
  }
})

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (): Layer.Layer<Planner> => Layer.succeed(Planner, make())
