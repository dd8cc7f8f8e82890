import { HttpClient } from "@effect/platform"
import { afterAll, describe, expect, it, layer } from "@effect/vitest"
import { Effect, Exit, Layer, Option, Schedule, Scope } from "effect"
import * as Dns from "node:dns"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import { Pebble, PebbleHttpClient } from "@acme/testing"
import { findExecutable } from "../src/internal/binaries.js"
import { x509 } from "../src/internal/x509.js"

// Every process this file sees started must be gone when it ends (no orphans).
const seenProcessIds = new Set<number>()
const remember = (pebble: Pebble.Service) => {
  seenProcessIds.add(pebble.processIds.pebble)
  seenProcessIds.add(pebble.processIds.challtestsrv)
}
const isAlive = (pid: number) => Fs.existsSync(`/proc/${pid}`)

afterAll(async () => {
  // the layers' finalizers have run by now; give the kernel a moment to reap (up to 10 s on a busy CI)
  for (let i = 0; i < 500 && [...seenProcessIds].some(isAlive); i++) await new Promise((r) => setTimeout(r, 20))
  expect([...seenProcessIds].filter(isAlive)).toEqual([])
})

const environOf = (pid: number): Record<string, string> =>
  Object.fromEntries(
    Fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").filter((kv) => kv.includes("=")).map((kv) => {
      const at = kv.indexOf("=")
      return [kv.slice(0, at), kv.slice(at + 1)]
    })
  )

const resolver = (pebble: Pebble.Service) => {
  // a UDP query may wait for a busy machine: several tries before a timeout counts as an answer
  const r = new Dns.promises.Resolver({ timeout: 2000, tries: 4 })
  r.setServers([`127.0.0.1:${pebble.dnsPort}`])
  return r
}

const txt = (pebble: Pebble.Service, name: string) =>
  Effect.promise(() =>
    resolver(pebble).resolveTxt(name).then(
      (records) => records.map((chunks) => chunks.join("")).sort(),
      (error: NodeJS.ErrnoException) => error.code ?? "error"
    )
  )

const fetchText = (url: string) =>
  Effect.promise(() => fetch(url).then(async (r) => ({ status: r.status, body: await r.text() })))

/** resolves with the error code when nothing listens */
const connect = (port: number) =>
  Effect.async<string>((resume) => {
    const socket = Net.connect({ port, host: "127.0.0.1" })
    socket.once("connect", () => {
      socket.destroy()
      resume(Effect.succeed("connected"))
    })
    socket.once("error", (error: NodeJS.ErrnoException) => resume(Effect.succeed(error.code ?? "error")))
  })

/**
 * Pebble's output once it holds a line with each of `needles`: Pebble prints them before it listens,
 * but the harness's drain may still be reading the pipe when the directory first answers (up to 10 s)
 */
const pebbleOutput = (pebble: Pebble.Service, ...needles: ReadonlyArray<string>) => {
  const lines = Effect.map(pebble.recentOutput, (output) => output.pebble)
  return lines.pipe(
    Effect.filterOrFail((seen) => needles.every((needle) => seen.some((line) => line.includes(needle)))),
    Effect.retry(Schedule.spaced("20 millis")),
    Effect.timeout("10 seconds"),
    Effect.orElse(() => lines)
  )
}

const isPemCertificate = (pem: string) => {
  expect(pem).toMatch(/^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n?$/)
  return new x509.X509Certificate(pem)
}

const withHttpClient = (options?: Pebble.PebbleOptions) =>
  PebbleHttpClient.layer.pipe(Layer.provideMerge(Pebble.layer(options)))

layer(withHttpClient(), { excludeTestServices: true })("Pebble.layer() with the defaults", (it) => {
  it.effect("serves an ACME directory at directoryUrl, through an HttpClient that trusts caBundle", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      remember(pebble)
      expect(pebble.directoryUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/dir$/)
      expect(pebble.managementUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
      expect(pebble.challtestsrvUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      expect(pebble.challengeServers).toBe("challtestsrv")
      expect(new Set([pebble.httpPort, pebble.tlsPort, pebble.dnsPort]).size).toBe(3)
      expect(isPemCertificate(pebble.caBundle).subject).toContain("@acme/testing Pebble TLS CA")

      const directory = yield* pebble.directory
      expect(directory.newNonce).toMatch(/^https:\/\/127\.0\.0\.1:\d+\//)
      expect(directory.newAccount).toMatch(/^https:\/\//)
      expect(directory.newOrder).toMatch(/^https:\/\//)
      expect(directory.meta?.externalAccountRequired).toBe(false)

      const response = yield* (yield* HttpClient.HttpClient).get(pebble.directoryUrl)
      expect(response.status).toBe(200)
      expect(yield* response.json).toEqual(directory)
    }))

  it.effect("serves Pebble's root and intermediate as PEM; there is no root 1 without alternateRoots", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const root = isPemCertificate(yield* pebble.rootCertificate())
      expect(root.subject).toMatch(/Pebble Root CA/)
      expect(root.subject).toBe(root.issuer)
      const intermediate = isPemCertificate(yield* pebble.intermediateCertificate(0))
      expect(intermediate.issuer).toBe(root.subject)

      const missing = yield* Effect.flip(pebble.rootCertificate(1))
      expect(missing.reason).toBe("Management")
      expect(missing.message).toContain("404")
    }))

  it.effect("setTxt feeds challtestsrv's DNS and clearTxt empties it, with or without the trailing dot", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      expect(yield* txt(pebble, "_acme-challenge.example.org")).toBe("ENODATA")
      yield* pebble.setTxt("_acme-challenge.example.org", "first")
      yield* pebble.setTxt("_acme-challenge.Example.org.", "second")
      expect(yield* txt(pebble, "_acme-challenge.example.org")).toEqual(["first", "second"])
      yield* pebble.clearTxt("_acme-challenge.example.org.")
      expect(yield* txt(pebble, "_acme-challenge.example.org")).toBe("ENODATA")
    }))

  it.effect("every name resolves to 127.0.0.1 until addA says otherwise", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const r = resolver(pebble)
      expect(yield* Effect.promise(() => r.resolve4("anything.example.net"))).toEqual(["127.0.0.1"])
      yield* pebble.addA("elsewhere.example.net", ["192.0.2.7", "192.0.2.8"])
      expect((yield* Effect.promise(() => r.resolve4("elsewhere.example.net"))).sort()).toEqual(["192.0.2.7", "192.0.2.8"])
      yield* pebble.clearA("elsewhere.example.net.")
      expect(yield* Effect.promise(() => r.resolve4("elsewhere.example.net"))).toEqual(["127.0.0.1"])
    }))

  it.effect("addHttp01 makes challtestsrv serve the key authorization on httpPort; removeHttp01 stops it", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const url = `http://127.0.0.1:${pebble.httpPort}/.well-known/acme-challenge/tok-123`
      // challtestsrv answers 200 with an empty body for tokens it does not know
      expect(yield* fetchText(url)).toEqual({ status: 200, body: "" })
      yield* pebble.addHttp01("tok-123", "tok-123.thumbprint")
      expect(yield* fetchText(url)).toEqual({ status: 200, body: "tok-123.thumbprint" })
      yield* pebble.removeHttp01("tok-123")
      expect(yield* fetchText(url)).toEqual({ status: 200, body: "" })
      expect(yield* connect(pebble.tlsPort)).toBe("connected")
    }))

  it.effect("gives Pebble deterministic settings by default (no nonce rejection, no authz reuse, no VA sleep)", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const env = environOf(pebble.processIds.pebble)
      expect(env).toMatchObject({
        PEBBLE_VA_NOSLEEP: "1",
        PEBBLE_WFE_NONCEREJECT: "0",
        PEBBLE_AUTHZREUSE: "0",
        PEBBLE_VA_ALWAYS_VALID: "0"
      })
      const output = yield* pebbleOutput(pebble, "Configured to reject 0% of good nonces")
      expect(output).toContainEqual(expect.stringContaining("Configured to reject 0% of good nonces"))
    }))

  it.effect("certificateStatus of an unknown serial is a Management error naming the serial", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const error = yield* Effect.flip(pebble.certificateStatus("0x00C0FFEE"))
      expect(error.reason).toBe("Management")
      expect(error.message).toContain("serial c0ffee")
      expect((yield* Effect.flip(pebble.certificateStatus("xyz"))).message).toContain("not a hexadecimal serial")
    }))
})

// built with the TestClock in place (no excludeTestServices): starting uses a live clock regardless
layer(Pebble.layer({ eab: { required: true, keys: { "kid-1": "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W" } } }))(
  "Pebble.layer({ eab }) under the TestClock",
  (it) => {
  it.effect("announces externalAccountRequired in the directory", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      remember(pebble)
      expect((yield* pebble.directory).meta?.externalAccountRequired).toBe(true)
      const config = JSON.parse(Fs.readFileSync(`${pebble.tempDirectory}/pebble-config.json`, "utf8")) as unknown // test: our own file
      expect(config).toMatchObject({ pebble: { externalAccountBindingRequired: true, externalAccountMACKeys: { "kid-1": expect.any(String) } } })
    }))
  }
)

layer(Pebble.layer({ alternateRoots: 2 }), { excludeTestServices: true })("Pebble.layer({ alternateRoots: 2 })", (it) => {
  it.effect("serves roots 0, 1 and 2, all different", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      remember(pebble)
      const roots = yield* Effect.all([pebble.rootCertificate(0), pebble.rootCertificate(1), pebble.rootCertificate(2)])
      expect(new Set(roots).size).toBe(3)
      expect(isPemCertificate(roots[1]).subject).toMatch(/Pebble Root CA/)
      expect((yield* Effect.flip(pebble.rootCertificate(3))).reason).toBe("Management")
    }))
})

layer(Pebble.layer({ challengeServers: "external" }), { excludeTestServices: true })(
  "Pebble.layer({ challengeServers: \"external\" })",
  (it) => {
    it.effect("leaves httpPort and tlsPort to the caller, keeps DNS", () =>
      Effect.gen(function*() {
        const pebble = yield* Pebble.Pebble
        remember(pebble)
        expect(pebble.challengeServers).toBe("external")
        expect(yield* connect(pebble.httpPort)).toBe("ECONNREFUSED")
        expect(yield* connect(pebble.tlsPort)).toBe("ECONNREFUSED")
        yield* pebble.setTxt("_acme-challenge.external.example", "v")
        expect(yield* txt(pebble, "_acme-challenge.external.example")).toEqual(["v"])
        const error = yield* Effect.flip(pebble.addHttp01("t", "t.k"))
        expect(error.reason).toBe("Management")
        expect(error.message).toContain(`127.0.0.1:${pebble.httpPort}`)
      }))
  }
)

layer(
  Pebble.layer({ nonceRejectPercent: 37, authzReusePercent: 12, chainLength: 2, certificateValidityPeriodSeconds: 3600, strict: true }),
  { excludeTestServices: true }
)("Pebble.layer with tuned options", (it) => {
  it.effect("passes them to Pebble's environment, flags and config", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      remember(pebble)
      expect(environOf(pebble.processIds.pebble)).toMatchObject({
        PEBBLE_WFE_NONCEREJECT: "37",
        PEBBLE_AUTHZREUSE: "12",
        PEBBLE_CHAIN_LENGTH: "2",
        PEBBLE_VA_NOSLEEP: "1"
      })
      expect(Fs.readFileSync(`/proc/${pebble.processIds.pebble}/cmdline`, "utf8").split("\0")).toContain("-strict")
      const output = yield* pebbleOutput(
        pebble,
        "Configured to reject 37% of good nonces",
        "authz reuse for each identifier 12% of the time",
        "certificate validity period of 3600 seconds"
      )
      expect(output).toContainEqual(expect.stringContaining("Configured to reject 37% of good nonces"))
      expect(output).toContainEqual(expect.stringContaining("authz reuse for each identifier 12% of the time"))
      expect(output).toContainEqual(expect.stringContaining("certificate validity period of 3600 seconds"))
    }))
})

describe("errors", () => {
  it.live("a missing pebble binary is one NotInstalled line naming the install command", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.scoped(Pebble.make({ pebbleBin: "/nonexistent/pebble" })))
      expect(error._tag).toBe("PebbleError")
      expect(error.reason).toBe("NotInstalled")
      expect(error.message).toBe(
        "pebble is not installed (looked for \"/nonexistent/pebble\"); install it with: apt-get install -y pebble (or set PEBBLE_BIN)"
      )
    }))

  it.live("a missing challtestsrv binary on PATH says so", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.scoped(Pebble.make({ challtestsrvBin: "no-such-challtestsrv" })))
      expect(error.reason).toBe("NotInstalled")
      expect(error.message).toContain("looked for \"no-such-challtestsrv\" on PATH")
      expect(error.message).toContain("apt-get install -y pebble")
      expect(error.message).toContain("PEBBLE_CHALLTESTSRV_BIN")
      expect(error.message).not.toContain("\n")
    }))

  it.live("a Pebble that exits during start-up is StartFailed with its last output", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.scoped(Pebble.make({ eab: { required: true, keys: { k: "!!!" } } })))
      expect(error.reason).toBe("StartFailed")
      expect(error.message).toMatch(/^pebble exited with code 1 before it was ready/)
      expect(error.message).toContain("failed to decode base64 URL encoded key")
    }))

  it.live("a start that takes longer than startTimeout is StartFailed", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.scoped(Pebble.make({ startTimeout: "1 millis" })))
      expect(error.reason).toBe("StartFailed")
      expect(error.message).toContain("did not become ready within 1ms")
    }))

  it.live("invalid options are refused before anything starts", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.scoped(Pebble.make({ nonceRejectPercent: 150 })))
      expect(error.message).toContain("nonceRejectPercent")
    }))
})

describe("port conflicts", () => {
  it.live("a port taken between picking and binding makes the harness start again on other ports", () =>
    Effect.gen(function*() {
      // a pebble that reports a taken port on its first run, then is the real one
      const dir = Fs.mkdtempSync(`${Os.tmpdir()}/acme-testing-fake-`)
      const fake = `${dir}/pebble`
      const real = Option.getOrThrow(findExecutable(process.env["PEBBLE_BIN"] ?? "pebble"))
      Fs.writeFileSync(
        fake,
        `#!/bin/sh\nif [ ! -e "${dir}/ran" ]; then : > "${dir}/ran"; echo "listen tcp 127.0.0.1:1: bind: address already in use" >&2; exit 1; fi\nexec "${real}" "$@"\n`,
        { mode: 0o755 }
      )
      yield* Effect.addFinalizer(() => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true })))
      const pebble = yield* Pebble.make({ pebbleBin: fake })
      remember(pebble)
      expect(Fs.existsSync(`${dir}/ran`)).toBe(true)
      expect((yield* pebble.directory).newOrder).toMatch(/^https:/)
      // the first attempt's challtestsrv is gone: only this attempt's two processes run in the directory
      const inTempDirectory = Fs.readdirSync("/proc").filter((pid) => {
        try {
          return /^\d+$/.test(pid) && Fs.readlinkSync(`/proc/${pid}/cwd`) === pebble.tempDirectory
        } catch {
          return false
        }
      }).map(Number)
      expect(inTempDirectory.sort((a, b) => a - b)).toEqual(
        [pebble.processIds.pebble, pebble.processIds.challtestsrv].sort((a, b) => a - b)
      )
    }).pipe(Effect.scoped))
})

describe("lifecycle", () => {
  it.live("closing the scope stops both processes and removes the temporary directory", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const pebble = yield* Pebble.make().pipe(Scope.extend(scope))
      remember(pebble)
      expect(Fs.existsSync(pebble.tempDirectory)).toBe(true)
      expect(isAlive(pebble.processIds.pebble) && isAlive(pebble.processIds.challtestsrv)).toBe(true)
      const directoryPort = Number(new URL(pebble.directoryUrl).port)
      expect(yield* connect(directoryPort)).toBe("connected")

      yield* Scope.close(scope, Exit.void)

      expect(Fs.existsSync(pebble.tempDirectory)).toBe(false)
      expect(isAlive(pebble.processIds.pebble)).toBe(false)
      expect(isAlive(pebble.processIds.challtestsrv)).toBe(false)
      expect(yield* connect(directoryPort)).toBe("ECONNREFUSED")
      expect(yield* connect(pebble.dnsPort)).toBe("ECONNREFUSED")
    }))
})
