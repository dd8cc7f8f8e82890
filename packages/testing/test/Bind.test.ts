import { Bind } from "@acme/testing"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Scope } from "effect"
import * as Dns from "node:dns"
import * as Fs from "node:fs"

const soa = (server: string, zone: string) =>
  Effect.promise(() => {
    // several tries: a UDP query may wait for a busy machine
    const resolver = new Dns.promises.Resolver({ timeout: 2000, tries: 4 })
    resolver.setServers([server])
    return resolver.resolveSoa(zone).then((answer) => answer.nsname, (error: Error) => `error: ${error.message}`)
  })

const isRunning = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe("Bind", () => {
  it.live("serves its zones on a loopback port, with recursion off, and stops when the scope closes", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const bind = yield* Bind.make({
        zones: [{ name: "example.test", updatable: true, records: ["www IN A 127.0.0.2"] }, {
          name: "locked.test",
          updatable: false
        }]
      }).pipe(Scope.extend(scope))
      expect(bind.server).toBe(`127.0.0.1:${bind.port}`)
      expect(yield* soa(bind.server, "example.test")).toBe("ns1.example.test")
      expect(yield* soa(bind.server, "locked.test")).toBe("ns1.locked.test")
      // not authoritative for it, and no recursion: refused
      expect(yield* soa(bind.server, "example.org")).toMatch(/^error: .*REFUSED/)
      const conf = Fs.readFileSync(`${bind.tempDirectory}/named.conf`, "utf8")
      expect(conf).toContain(`grant ${bind.keys.sha256.name} zonesub TXT;`)
      expect(conf).toMatch(/zone "locked\.test" \{ type primary; file "locked\.test\.zone"; \};/)
      expect(Fs.statSync(`${bind.tempDirectory}/named.conf`).mode & 0o777).toBe(0o600)
      expect(Buffer.from(bind.keys.sha512.secret, "base64")).toHaveLength(32)
      expect(isRunning(bind.pid)).toBe(true)

      yield* Scope.close(scope, Exit.void)
      expect(isRunning(bind.pid)).toBe(false)
      expect(Fs.existsSync(bind.tempDirectory)).toBe(false)
    }))

  it.effect("says how to install named when it is missing", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.scoped(Bind.make({ namedBin: "/nonexistent/named" })))
      expect(error.reason).toBe("NotInstalled")
      expect(error.message).toBe(
        "named (BIND 9) is not installed (looked for \"/nonexistent/named\"); install it with: apt-get install -y bind9 (or set NAMED_BIN)"
      )
    }))
})
