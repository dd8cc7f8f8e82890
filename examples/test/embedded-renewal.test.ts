import { Pebble } from "@acme/testing"
import { Certificate } from "@acme/sdk"
import { expect, layer } from "@effect/vitest"
import { Effect, Option } from "effect"
import { EmbeddedLayer, program } from "../src/embedded-renewal.js"

layer(EmbeddedLayer, { excludeTestServices: true })("embedded-renewal", (it) => {
  it.effect("runs the pipeline with memory storage and the app's own http-01 server", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const { first, second, stored } = yield* program
      expect(first.certificates.map((c) => [c.name, c.action])).toEqual([["app", "renewed"]])
      expect(second.certificates.map((c) => [c.name, c.action])).toEqual([["app", "skipped"]])
      const certificate = Option.getOrThrow(stored)
      expect(certificate.paths.fullchain).toBe("memory:live/app/fullchain.pem")
      const leaf = Certificate.leaf(yield* Certificate.parseChain(certificate.fullchainPem))
      expect(leaf.identifiers.map((i) => i.value).sort()).toEqual(["app.example.test", "www.app.example.test"])
      // validated for real: Pebble fetched the token from the app's server, and holds the certificate
      expect((yield* pebble.certificateStatus(leaf.serialNumber)).status).toBe("Valid")
    }))
})
