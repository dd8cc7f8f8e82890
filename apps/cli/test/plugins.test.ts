/**
 * A third-party plugin, loaded by the CLI from the npm package the configuration names: the example
 * package examples/plugin-httpreq (a dns-01 provider speaking lego's httpreq format), installed in
 * the configuration's folder the way `npm install acme-plugin-httpreq` would, against a real Pebble
 * whose dns-01 validation reads what the plugin's endpoint put into challtestsrv.
 */
import { X509Certificate } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { HttpStub, Pebble } from "@acme/testing"
import { expect, layer } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { acme, type Options, temporaryFolder } from "./support/cli.js"

const pluginPackage = path.resolve(import.meta.dirname, "../../../examples/plugin-httpreq")
const password = "httpreq-test-password"

const Body = Schema.parseJson(Schema.Struct({ fqdn: Schema.String, value: Schema.String }))

/** The user's own endpoint (lego's httpreq format): puts the TXT records into challtestsrv. */
const endpoint = (challtestsrvUrl: string) =>
  Effect.gen(function*() {
    const stub = yield* HttpStub.make(HttpStub.routes({
      "POST /acme/present": (request) => forward(request, "/set-txt"),
      "POST /acme/cleanup": (request) => forward(request, "/clear-txt")
    }))
    const forward = (request: HttpStub.Request, target: "/set-txt" | "/clear-txt") =>
      Schema.decodeUnknown(Body)(request.text).pipe(
        Effect.flatMap((body) =>
          Effect.tryPromise(() =>
            fetch(new URL(target, challtestsrvUrl), {
              method: "POST",
              body: JSON.stringify(target === "/set-txt" ? { host: body.fqdn, value: body.value } : { host: body.fqdn })
            })
          )
        ),
        Effect.map((answer): HttpStub.Reply => ({ status: answer.ok ? 200 : 502, text: "" })),
        Effect.orElseSucceed((): HttpStub.Reply => ({ status: 502, text: "" }))
      )
    /** the calls the plugin made: action, record, and its Authorization header */
    const calls = Effect.map(stub.requests, (requests) =>
      requests.map((request) => ({
        action: request.path.replace(/^\/acme\//, ""),
        ...Schema.decodeUnknownSync(Body)(request.text),
        authorization: request.headers.authorization
      })))
    return { url: `${stub.url}/acme`, calls }
  })

/** A folder with the plugin "installed" (node_modules/acme-plugin-httpreq) and acme.json in it. */
const withConfig = (challenge: Record<string, unknown>, pebble: Pebble.Service, domain: string, options: Options = {}) =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const folder = temporaryFolder("acme-plugin-")
      fs.mkdirSync(path.join(folder.path, "node_modules"))
      fs.symlinkSync(pluginPackage, path.join(folder.path, "node_modules", "acme-plugin-httpreq"), "dir")
      fs.writeFileSync(
        path.join(folder.path, "acme.json"),
        JSON.stringify({
          ca: { directory: pebble.directoryUrl, trust: [pebble.caBundle] },
          storage: { path: "./storage" },
          renewal: { maxAttempts: 1 },
          certificates: [{ name: "site", domains: [domain, `*.${domain}`], challenge }]
        })
      )
      return folder
    }),
    (folder) =>
      Effect.promise(async () => {
        const result = await acme(["renew", "--json"], { cwd: folder.path, ...options })
        const live = path.join(folder.path, "storage", "live", "site", "cert.pem")
        return { ...result, certificate: fs.existsSync(live) ? new X509Certificate(fs.readFileSync(live)) : undefined }
      }),
    (folder) => Effect.sync(folder.remove)
  )

const ErrorDocument = Schema.parseJson(Schema.Struct({ error: Schema.Struct({ type: Schema.String, message: Schema.String }) }))

layer(Pebble.layer(), { excludeTestServices: true })("a plugin package named in the configuration", (it) => {
  it.scoped("issues a wildcard certificate through the plugin's DNS provider, with its options and secret", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const api = yield* endpoint(pebble.challtestsrvUrl)
      const result = yield* withConfig(
        {
          type: "dns-01",
          plugin: "acme-plugin-httpreq",
          provider: "httpreq",
          endpoint: api.url,
          username: "acme",
          passwordEnv: "HTTPREQ_PASSWORD",
          // the zone's "authoritative server" is challtestsrv's DNS, which Pebble asks too
          propagation: { nameservers: [`127.0.0.1:${pebble.dnsPort}`], interval: "200 millis", timeout: "20 seconds" }
        },
        pebble,
        "plugin.example.test",
        { env: { HTTPREQ_PASSWORD: password } }
      )
      expect(result.code).toBe(0)
      expect(result.stderr).not.toContain(password)
      expect(result.certificate?.subjectAltName?.split(", ").sort()).toEqual([
        "DNS:*.plugin.example.test",
        "DNS:plugin.example.test"
      ])
      // one TXT name for both (the wildcard's is its base name's), two values; each put in place and removed
      const calls = yield* api.calls
      expect(calls.filter((call) => call.action === "present").map((call) => call.fqdn)).toEqual([
        "_acme-challenge.plugin.example.test.",
        "_acme-challenge.plugin.example.test."
      ])
      expect(calls.filter((call) => call.action === "cleanup")).toHaveLength(2)
      const basic = `Basic ${Buffer.from(`acme:${password}`).toString("base64")}`
      expect(calls.every((call) => call.authorization === basic)).toBe(true)
      expect(result.stdout).not.toContain(password)
    }))

  it.effect("options that fail the plugin's Schema: exit code 2, the path and the plugin's message", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const result = yield* withConfig(
        { type: "dns-01", plugin: "acme-plugin-httpreq", provider: "httpreq", endpoint: "ftp://dns.example.test" },
        pebble,
        "bad.plugin.example.test"
      )
      expect(result.code).toBe(2)
      expect(Schema.decodeUnknownSync(ErrorDocument)(result.stdout).error.message).toBe(
        `acme.json: certificates[0].challenge.endpoint: "ftp://dns.example.test" is not an http(s) URL`
      )
      expect(result.certificate).toBeUndefined()
    }))

  it.effect("a provider the plugin does not have, and a secret that is not set", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const unknown = yield* withConfig(
        { type: "dns-01", plugin: "acme-plugin-httpreq", provider: "httpreq2", endpoint: "http://127.0.0.1:1" },
        pebble,
        "unknown.plugin.example.test"
      )
      expect(unknown.code).toBe(2)
      expect(Schema.decodeUnknownSync(ErrorDocument)(unknown.stdout).error.message).toBe(
        `acme.json: certificates[0].challenge.provider: unknown DNS provider "httpreq2" in the plugin "acme-plugin-httpreq"; use one of httpreq`
      )
      const unset = yield* withConfig(
        { type: "dns-01", plugin: "acme-plugin-httpreq", provider: "httpreq", endpoint: "http://127.0.0.1:1", username: "acme", passwordEnv: "HTTPREQ_PASSWORD_UNSET" },
        pebble,
        "unset.plugin.example.test"
      )
      expect(unset.code).toBe(2)
      const error = Schema.decodeUnknownSync(ErrorDocument)(unset.stdout).error
      expect(error.type).toBe("PluginError")
      expect(error.message).toContain("HTTPREQ_PASSWORD_UNSET is not set")
      expect(unset.certificate).toBeUndefined()
    }))

  it.effect("a module file given by its path, relative to the configuration", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const result = yield* withConfig(
        { type: "dns-01", plugin: "./node_modules/acme-plugin-httpreq/dist/index.js", provider: "nope", endpoint: "http://127.0.0.1:1" },
        pebble,
        "path.plugin.example.test"
      )
      expect(Schema.decodeUnknownSync(ErrorDocument)(result.stdout).error.message).toContain(
        `unknown DNS provider "nope" in the plugin "./node_modules/acme-plugin-httpreq/dist/index.js"; use one of httpreq`
      )
    }))
})
