/**
 * What a model may see: the Schemas keep only their fields and redact free text, so no PEM, key,
 * JWK member, token or URL can reach a prompt.
 */
import * as ModelInput from "../src/ModelInput.js"
import { CertificateName, Planner } from "@acme/sdk"
import { describe, expect, it } from "@effect/vitest"
import { DateTime, Effect, Option, Schema } from "effect"

const PEM_KEY = [
  "-----BEGIN PRIVATE KEY-----",
  "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgVcB3zKpXq7Yb1f0",
  "hRANCAAQxJpQ2n1cS0dXgk4wY8v3zQ9Lz5fTt0mJ2bq1k3x7o6n8l5Yc2Vf1a==",
  "-----END PRIVATE KEY-----"
].join("\n")

describe("ModelInput.redact", () => {
  it.each([
    ["a PEM block, whole", `key ${PEM_KEY} end`, "key [PEM removed] end"],
    ["a PEM block cut off", "key -----BEGIN RSA PRIVATE KEY-----\nMIIEow", "key [PEM removed]"],
    ["a URL", "account https://ca.example/acme/acct/123 is deactivated", "account [URL removed] is deactivated"],
    ["a JWK's private member", "{\"d\":\"c2VjcmV0LWQtdmFsdWUtdGhhdC1pcy1sb25nLWVub3VnaA\"}", "{\"d\":\"[removed]\"}"],
    ["a long hex run", "nonce 0123456789abcdef0123456789abcdef01 used", "nonce [removed] used"],
    ["newlines and runs of spaces", "one\n  two\tthree", "one two three"]
  ])("removes %s", (_, text, expected) => {
    expect(ModelInput.redact(text)).toBe(expected)
  })

  it("keeps ordinary reasons as they are", () => {
    const reason = "29 days left of 90 days; due when a third of its lifetime is left"
    expect(ModelInput.redact(reason)).toBe(reason)
  })

  it("cuts a long text to 500 characters", () => {
    expect(ModelInput.redact("word ".repeat(400))).toHaveLength(500)
  })
})

describe("ModelInput.scan", () => {
  it.effect("lists only its fields: keys, account URLs and other values the input carries stay out", () =>
    Effect.gen(function*() {
      const now = DateTime.unsafeMake("2026-11-23T12:00:00Z")
      const input = {
        name: CertificateName.make("web"),
        identifiers: [{ type: "dns" as const, value: "example.org" }],
        keyType: "ec-p256",
        profile: undefined,
        directoryUrl: "https://ca.example/dir",
        current: Option.none(),
        force: false,
        lastError: `badCSR: ${PEM_KEY}`,
        // not part of Planner.Input: smuggled in, must not come out
        privateKeyPem: PEM_KEY,
        accountUrl: "https://ca.example/acme/acct/123"
      }
      const plan: Planner.Plan = {
        decisions: [{ action: "renew", reason: "there is no certificate yet", replaces: "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE" }],
        order: ["web"],
        outcome: Planner.deterministicOutcome
      }
      const scan = yield* ModelInput.scan([input], plan, now)
      expect(scan).toEqual({
        now: "2026-11-23T12:00:00.000Z",
        certificates: [{
          name: "web",
          domains: ["example.org"],
          revoked: false,
          decision: "renew",
          reason: "there is no certificate yet",
          lastError: "badCSR: [PEM removed]"
        }]
      })
      const json = JSON.stringify(scan)
      for (const hidden of ["PRIVATE KEY", "MIGHAgEA", "acct/123", "ca.example", "aYhba4dG"]) expect(json).not.toContain(hidden)
    }))

  it("every text field of the scan is redacted on decode", () => {
    const decoded = Schema.decodeUnknownSync(ModelInput.ScanEntry)({
      name: "web",
      domains: [PEM_KEY],
      revoked: false,
      decision: "skip",
      reason: `see https://ca.example/x ${PEM_KEY}`,
      lastError: "token ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef0123"
    })
    expect(decoded.domains).toEqual(["[PEM removed]"])
    expect(decoded.reason).toBe("see [URL removed] [PEM removed]")
    expect(decoded.lastError).toBe("token [removed]")
  })
})
