import { CertificateName, Planner, type RenewalState } from "@acme/sdk"
import { describe, expect, it } from "@effect/vitest"
import { DateTime, Effect, Option, TestClock } from "effect"

const DAY = 86_400_000
const NOW = DateTime.unsafeMake("2026-11-23T12:00:00Z")
const CA = "https://ca.example/dir"
const at = (offsetDays: number) => DateTime.formatIso(DateTime.unsafeMake(DateTime.toEpochMillis(NOW) + offsetDays * DAY))
const ids = [{ type: "dns", value: "example.org" }, { type: "dns", value: "www.example.org" }]

const current = (overrides: Partial<RenewalState.Current> = {}): RenewalState.Current => ({
  serialNumber: "abc123",
  identifiers: ids,
  keyType: "ec-p256",
  notBefore: at(-40),
  notAfter: at(50),
  certId: "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE",
  directoryUrl: CA,
  ...overrides
})

const input = (overrides: Partial<Planner.Input> = {}): Planner.Input => ({
  name: CertificateName.make("web"),
  identifiers: ids,
  keyType: "ec-p256",
  profile: undefined,
  directoryUrl: CA,
  current: Option.some(current()),
  force: false,
  ...overrides
})

const decide = (i: Planner.Input) => Planner.decide(i, NOW)

describe("Planner", () => {
  it.effect("renews when there is no certificate yet", () =>
    Effect.gen(function*() {
      const decision = yield* decide(input({ current: Option.none() }))
      expect(decision).toMatchObject({ action: "renew", reason: "there is no certificate yet" })
      expect(decision.replaces).toBeUndefined()
    }))

  describe("by lifetime, without ARI", () => {
    it.effect("a 90-day certificate with 50 days left waits until a third is left, minus at most a day of jitter", () =>
      Effect.gen(function*() {
        const decision = yield* decide(input())
        expect(decision.action).toBe("skip")
        expect(decision.reason).toMatch(/^50 days left of 90 days; renewal planned for 2026-12-\d\d \d\d:\d\d UTC \(when a third of its lifetime is left\)$/)
        const planned = DateTime.toEpochMillis(DateTime.unsafeMake(decision.renewAt ?? ""))
        const third = DateTime.toEpochMillis(NOW) + 50 * DAY - 30 * DAY
        expect(planned).toBeLessThanOrEqual(third)
        expect(planned).toBeGreaterThanOrEqual(third - DAY)
      }))

    it.effect("the same certificate gets the same plan on every run; another serial another jitter", () =>
      Effect.gen(function*() {
        const a = yield* decide(input())
        const b = yield* decide(input())
        expect(a).toEqual(b)
        const other = yield* decide(input({ current: Option.some(current({ serialNumber: "ffee01" })) }))
        expect(other.renewAt).not.toBe(a.renewAt)
      }))

    it.effect("with 29 of 90 days left it is due, and names the certificate it replaces", () =>
      Effect.gen(function*() {
        const decision = yield* decide(input({ current: Option.some(current({ notBefore: at(-61), notAfter: at(29) })) }))
        expect(decision.action).toBe("renew")
        expect(decision.reason).toBe("29 days left of 90 days; due when a third of its lifetime is left")
        expect(decision.replaces).toBe("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE")
      }))

    it.effect("a short-lived (6-day) certificate renews at half its lifetime", () =>
      Effect.gen(function*() {
        const waiting = yield* decide(input({ current: Option.some(current({ notBefore: at(-2), notAfter: at(4) })) }))
        expect(waiting.action).toBe("skip")
        expect(waiting.reason).toContain("when half of its short lifetime is left")
        const due = yield* decide(input({ current: Option.some(current({ notBefore: at(-3.2), notAfter: at(2.8) })) }))
        expect(due.action).toBe("renew")
        expect(due.reason).toBe("2.8 days left of 6 days; due when half of its short lifetime is left")
      }))

    it.effect("renewal.daysBefore overrides the fraction", () =>
      Effect.gen(function*() {
        const waiting = yield* decide(input({ daysBefore: 45 }))
        expect(waiting.action).toBe("skip")
        expect(waiting.reason).toContain("(45 days before expiry (renewal.daysBefore))")
        const due = yield* decide(input({ daysBefore: 51 }))
        expect(due.action).toBe("renew")
      }))

    it.effect("an expired certificate is due", () =>
      Effect.gen(function*() {
        const decision = yield* decide(input({ current: Option.some(current({ notBefore: at(-100), notAfter: at(-10) })) }))
        expect(decision.action).toBe("renew")
        expect(decision.reason).toMatch(/^the certificate expired on 2026-11-13 12:00 UTC$/)
      }))
  })

  describe("by the CA's ARI window", () => {
    const window = (startDays: number, endDays: number) =>
      Option.some(current({ renewalInfo: { start: at(startDays), end: at(endDays) } }))

    it.effect("before the window it waits for a time chosen inside it, stable across runs", () =>
      Effect.gen(function*() {
        const decision = yield* decide(input({ current: window(10, 12) }))
        expect(decision.action).toBe("skip")
        expect(decision.reason).toMatch(/^the CA suggests renewing between 2026-12-03 12:00 UTC – 2026-12-05 12:00 UTC; planned for /)
        const planned = DateTime.toEpochMillis(DateTime.unsafeMake(decision.renewAt ?? ""))
        expect(planned).toBeGreaterThanOrEqual(DateTime.toEpochMillis(NOW) + 10 * DAY)
        expect(planned).toBeLessThanOrEqual(DateTime.toEpochMillis(NOW) + 12 * DAY)
        expect(yield* decide(input({ current: window(10, 12) }))).toEqual(decision)
      }))

    it.effect("ARI wins over the lifetime rule: a window far from expiry is followed", () =>
      Effect.gen(function*() {
        // 5 days left of 90 would be due by lifetime, but the CA says: later
        const decision = yield* decide(input({
          current: Option.some(current({ notBefore: at(-85), notAfter: at(5), renewalInfo: { start: at(1), end: at(2) } }))
        }))
        expect(decision.action).toBe("skip")
        // and a window that began long ago (for example after a mass revocation) makes it due now
        const early = yield* decide(input({ current: window(-5, 1) }))
        expect(early.action).toBe("renew")
        expect(early.reason).toContain("inside the CA's suggested renewal window")
        expect(early.replaces).toBe("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE")
      }))

    it.effect.each([
      [-50, -45, "it ended before this certificate was issued, so it is about an earlier one"],
      [-41, 3, "it was open already when this certificate was issued, so it is about an earlier one"],
      [55, 60, "it begins after the certificate expires"],
      [12, 10, "it ends before it starts"]
    ] as const)("a stale or absurd window (%i to %i days) is ignored for the lifetime rule: %s", ([from, to, problem]) =>
      Effect.gen(function*() {
        const decision = yield* decide(input({ current: window(from, to) }))
        expect(decision.action).toBe("skip")
        expect(decision.reason).toMatch(
          new RegExp(`^the CA's suggested renewal window \\(.+ – .+\\) is ignored: ${problem}; by lifetime: 50 days left of 90 days; renewal planned for `)
        )
        expect(decision.renewAt).toBe((yield* decide(input())).renewAt)
      }))

    it.effect("the time it was stored counts as its issuance when known (notBefore is backdated)", () =>
      Effect.gen(function*() {
        const issuedLater = Option.some(current({ issuedAt: at(-39), renewalInfo: { start: at(-39.5), end: at(-1) } }))
        expect((yield* decide(input({ current: issuedLater }))).reason).toContain("is ignored: it was open already")
        const issuedEarlier = Option.some(current({ issuedAt: at(-40), renewalInfo: { start: at(-39.5), end: at(-1) } }))
        expect((yield* decide(input({ current: issuedEarlier }))).action).toBe("renew")
      }))

    it.effect("a window that has passed is due at once", () =>
      Effect.gen(function*() {
        const decision = yield* decide(input({ current: window(-3, -1) }))
        expect(decision.action).toBe("renew")
        expect(decision.reason).toContain("has passed")
      }))
  })

  describe("changes make a certificate due at once", () => {
    it.effect.each([
      [{ identifiers: [...ids, { type: "dns", value: "api.example.org" }] }, "the names changed (added api.example.org)"],
      [{ identifiers: ids.slice(0, 1) }, "the names changed (removed www.example.org)"],
      [{ keyType: "rsa-2048" }, "the key type changed from ec-p256 to rsa-2048"],
      [{ profile: "shortlived" }, "the profile changed from none to shortlived"],
      [{ force: true }, "forced (--force)"]
    ] as const)("%j → %s", ([change, reason]) =>
      Effect.gen(function*() {
        const decision = yield* decide(input(change))
        expect(decision).toMatchObject({ action: "renew", reason, replaces: "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE" })
      }))

    it.effect("another CA, or a revoked certificate: due, without replaces (that CA cannot replace it)", () =>
      Effect.gen(function*() {
        const moved = yield* decide(input({ directoryUrl: "https://other.example/dir" }))
        expect(moved.action).toBe("renew")
        expect(moved.reason).toBe(`the CA changed (the certificate came from ${CA})`)
        expect(moved.replaces).toBeUndefined()
        const revoked = yield* decide(input({ current: Option.some(current({ revokedAt: "2026-11-20T00:00:00Z" })) }))
        expect(revoked).toMatchObject({ action: "renew", reason: "the certificate was revoked (2026-11-20T00:00:00Z)" })
        expect(revoked.replaces).toBeUndefined()
      }))
  })

  it.effect("plan takes the time from Effect's Clock", () =>
    Effect.gen(function*() {
      const planner = Planner.make()
      yield* TestClock.setTime(DateTime.toEpochMillis(NOW))
      const first = yield* planner.plan([input()])
      expect(first.decisions[0]?.action).toBe("skip")
      expect(first.order).toEqual([])
      expect(first.outcome).toEqual(Planner.deterministicOutcome)
      yield* TestClock.adjust("21 days")
      const later = yield* planner.plan([input()])
      expect(later.decisions[0]?.action).toBe("renew")
      expect(later.order).toEqual(["web"])
    }))
})

describe("Planner.advise: the guard in front of an advisory planner", () => {
  // web and api are due (no certificate yet), mail is not (50 days left of 90)
  const inputs = [
    input({ name: CertificateName.make("web"), current: Option.none() }),
    input({ name: CertificateName.make("mail") }),
    input({ name: CertificateName.make("api"), current: Option.none() })
  ]
  const advisor = { provider: "openai-compatible", model: "llama3.1" }
  const deterministic = Effect.gen(function*() {
    yield* TestClock.setTime(DateTime.toEpochMillis(NOW))
    return yield* Planner.make().plan(inputs)
  })
  const actions = (plan: Planner.Plan) => plan.decisions.map((d) => d.action)

  it.effect("a good answer orders the due certificates and explains; the decisions stay", () =>
    Effect.gen(function*() {
      const plan = yield* deterministic
      const advised = Planner.advise(inputs, plan, {
        certificates: [
          { name: "api", action: "renew", explanation: "no certificate yet;\n  issue first" },
          { name: "mail", action: "skip", explanation: "50 days left" },
          { name: "web", action: "renew", explanation: "" }
        ]
      }, advisor)
      expect(plan.order).toEqual(["web", "api"])
      expect(advised.order).toEqual(["api", "web"])
      expect(actions(advised)).toEqual(["renew", "skip", "renew"])
      expect(advised.decisions.map((d) => d.explanation)).toEqual([undefined, "50 days left", "no certificate yet; issue first"])
      expect(advised.decisions[0]?.reason).toBe("there is no certificate yet")
      expect(advised.outcome).toEqual({
        provider: "openai-compatible",
        model: "llama3.1",
        fallback: false,
        dropped: [],
        restored: [],
        disagreements: []
      })
    }))

  it.effect("invented certificates are dropped and reported", () =>
    Effect.gen(function*() {
      const plan = yield* deterministic
      const advised = Planner.advise(inputs, plan, {
        certificates: [
          { name: "ghost", action: "renew" },
          { name: "web", action: "renew" },
          { name: "ghost", action: "renew" },
          { name: "mail", action: "skip" },
          { name: "api", action: "renew" },
          { name: "shop.example.org", action: "renew" }
        ]
      }, advisor)
      expect(advised.outcome.dropped).toEqual(["ghost", "shop.example.org"])
      expect(advised.outcome.restored).toEqual([])
      expect(advised.decisions).toHaveLength(3)
      expect(advised.order).toEqual(["web", "api"])
    }))

  it.effect("forgotten certificates are restored with the deterministic decision, renewed after the ordered ones", () =>
    Effect.gen(function*() {
      const plan = yield* deterministic
      const advised = Planner.advise(inputs, plan, { certificates: [{ name: "api", action: "renew" }] }, advisor)
      expect(advised.outcome.restored).toEqual(["web", "mail"])
      expect(actions(advised)).toEqual(["renew", "skip", "renew"])
      expect(advised.decisions).toEqual(plan.decisions)
      expect(advised.order).toEqual(["api", "web"])
    }))

  it.effect("a disagreement is reported and ignored: exactly the due certificates are renewed", () =>
    Effect.gen(function*() {
      const plan = yield* deterministic
      const advised = Planner.advise(inputs, plan, {
        certificates: [
          { name: "web", action: "skip", explanation: "renew it next week" },
          { name: "mail", action: "renew" },
          { name: "api", action: "renew" }
        ]
      }, advisor)
      expect(actions(advised)).toEqual(["renew", "skip", "renew"])
      expect(advised.order).toEqual(["web", "api"])
      expect(advised.outcome.disagreements).toEqual([
        { name: "web", advised: "skip", kept: "renew" },
        { name: "mail", advised: "renew", kept: "skip" }
      ])
    }))

  it.effect("an unusable answer falls back to the deterministic plan, with the reason", () =>
    Effect.gen(function*() {
      const plan = yield* deterministic
      const fell = Planner.fallback(plan, advisor, "the model did not answer within 30 seconds")
      expect(fell.decisions).toEqual(plan.decisions)
      expect(fell.order).toEqual(plan.order)
      expect(fell.outcome).toEqual({
        provider: "openai-compatible",
        model: "llama3.1",
        fallback: true,
        fallbackReason: "the model did not answer within 30 seconds",
        dropped: [],
        restored: [],
        disagreements: []
      })
    }))
})
