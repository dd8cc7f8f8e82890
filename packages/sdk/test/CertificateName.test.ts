import { CertificateName, RenewalConfig, Storage } from "@acme/sdk"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Schema } from "effect"

const invalid = ["", ".hidden", "..", "../x", "a/b", "a\\b", "with space", "x".repeat(65), "tab\there"]
const valid = ["web", "api.example.org", "a", "_x", "-y", "x".repeat(64)]

describe("CertificateName: one Schema for config, CLI options, Storage and buckets", () => {
  it("accepts folder-safe names and refuses the others with the one-line reason", () => {
    for (const name of valid) expect(CertificateName.is(name), name).toBe(true)
    for (const name of invalid) {
      expect(CertificateName.is(name), name).toBe(false)
      const decoded = Schema.decodeUnknownEither(CertificateName.CertificateName)(name)
      expect(Either.isLeft(decoded), name).toBe(true)
      if (Either.isLeft(decoded)) expect(decoded.left.message).toContain(CertificateName.describeInvalid(name))
    }
  })

  it("make throws on an invalid literal", () => {
    expect(CertificateName.make("web")).toBe("web")
    expect(() => CertificateName.make("../etc")).toThrow(/cannot be a certificate name/)
  })

  it("is the Schema the config decodes names with", () => {
    expect(RenewalConfig.CertificateName).toBe(CertificateName.CertificateName)
  })

  it.effect("the storage's own name check agrees with the Schema, name by name", () =>
    Effect.gen(function*() {
      for (const name of [...valid, ...invalid]) {
        const checked = yield* Effect.either(Storage.checkName(name))
        expect(Either.isRight(checked), name).toBe(CertificateName.is(name))
        expect(Storage.isSafeName(name), name).toBe(CertificateName.is(name))
      }
    }))
})
