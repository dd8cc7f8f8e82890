import { LlmPlugins } from "@acme/ai"
import { Plugins as DnsPlugins } from "@acme/dns"
import { PostgresStorage } from "@acme/storage-postgres"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Dns, Llm, Storage } from "../src/Providers.js"

describe("built-in providers listed by name", () => {
  it.effect("name exactly the plugins @acme/dns, @acme/ai and @acme/storage-postgres export, and each loads as itself", () =>
    Effect.gen(function*() {
      const key = (plugin: { readonly kind: string; readonly name: string }) => `${plugin.kind}:${plugin.name}`
      expect(Dns.plugins.map(key)).toEqual(DnsPlugins.plugins.map(key))
      expect([...Llm.plugins.map(key)].sort()).toEqual([...LlmPlugins.plugins.map(key)].sort())
      expect(Storage.plugins.map(key)).toEqual([key(PostgresStorage.plugin)])
      for (const listed of [...Dns.plugins, ...Llm.plugins, ...Storage.plugins]) {
        const loaded = yield* listed.load
        expect(key(loaded)).toBe(key(listed))
        expect(typeof loaded.configure).toBe("function")
      }
    }))
})
