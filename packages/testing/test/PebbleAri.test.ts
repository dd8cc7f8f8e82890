import { describe, expect, it, layer } from "@effect/vitest"
import { Effect, Option } from "effect"
import { Pebble, Requirement } from "@acme/testing"

// Debian bookworm's Pebble 2.4 has no ARI; `scripts/fetch-pebble-ari.sh` fetches trixie's 2.6.
const ari = Effect.runSync(Pebble.ariPebbleBinary)
const requirement = Requirement.decide({
  what: "a Pebble that offers ARI",
  missing: Option.isNone(ari) ? "run scripts/fetch-pebble-ari.sh or set PEBBLE_ARI_BIN" : undefined
})

if (requirement._tag === "Fail") {
  it("a Pebble that offers ARI is there", () => {
    expect.fail(Requirement.message(requirement))
  })
}

describe.skipIf(requirement._tag !== "Run")(
  `Pebble with ARI${Requirement.note(requirement)}`,
  () => {
    layer(Pebble.layer({ pebbleBin: Option.getOrElse(ari, () => "pebble") }), { excludeTestServices: true })(
      "Pebble.layer({ pebbleBin: ariPebbleBinary })",
      (it) => {
        it.effect("offers renewalInfo in the directory", () =>
          Effect.gen(function*() {
            const pebble = yield* Pebble.Pebble
            const directory = yield* pebble.directory
            expect(directory.renewalInfo).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/.*renewalInfo/)
          }))
      }
    )
  }
)

describe("ariPebbleBinary", () => {
  it.effect("prefers PEBBLE_ARI_BIN and ignores it when it is not an executable", () =>
    Effect.gen(function*() {
      const saved = process.env["PEBBLE_ARI_BIN"]
      try {
        delete process.env["PEBBLE_ARI_BIN"]
        const withoutEnv = yield* Pebble.ariPebbleBinary
        process.env["PEBBLE_ARI_BIN"] = "/bin/sh"
        expect(yield* Pebble.ariPebbleBinary).toEqual(Option.some("/bin/sh"))
        process.env["PEBBLE_ARI_BIN"] = "/nonexistent/pebble"
        expect(yield* Pebble.ariPebbleBinary).toEqual(withoutEnv)
      } finally {
        if (saved === undefined) delete process.env["PEBBLE_ARI_BIN"]
        else process.env["PEBBLE_ARI_BIN"] = saved
      }
    }))
})
