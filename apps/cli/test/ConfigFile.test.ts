/**
 * The messages of a bad configuration, in process (fast): one line per file, naming the path of each
 * bad value and what to do. The examples in docs/configuration.md come from here.
 */
import { Waits } from "@acme/sdk"
import { Duration, Effect, Either } from "effect"
import { describe, expect, it } from "vitest"
import * as ConfigFile from "../src/ConfigFile.js"
import * as Registry from "../src/Registry.js"

const base = {
  ca: { directory: "letsencrypt" },
  storage: { path: "./storage" },
  certificates: [{ name: "web", domains: ["example.org"], challenge: { type: "http-01" } }]
}
const withCertificate = (patch: object) => ({ ...base, certificates: [{ ...base.certificates[0], ...patch }] })

const messageOf = (data: unknown): string =>
  Either.match(ConfigFile.decode("acme.yaml", data), {
    onLeft: (error) => error.message,
    onRight: () => "decoded"
  })

describe("ConfigFile.decode: the server section", () => {
  it("is optional, with defaults; given, it is checked like the rest", () => {
    expect(Either.getOrThrow(ConfigFile.decode("acme.yaml", base)).server).toMatchObject({
      listen: "127.0.0.1:8555",
      publicStatus: false,
      metricsAuth: false
    })
    const given = Either.getOrThrow(
      ConfigFile.decode("acme.yaml", { ...base, server: { listen: "[::1]:9000", interval: "6 hours", publicStatus: true } })
    )
    expect(given.server.listen).toBe("[::1]:9000")
    expect(given.server.publicStatus).toBe(true)
    expect(messageOf({ ...base, server: { listen: "localhost" } })).toBe(
      `acme.yaml: server.listen: "localhost" is not a listen address: write host:port, e.g. 127.0.0.1:8555, 0.0.0.0:8555 or [::1]:8555`
    )
    expect(messageOf({ ...base, server: { interval: "10 seconds" } })).toContain("server.interval")
    expect(messageOf({ ...base, server: { port: 8555 } })).toContain("server.port")
  })
})

describe("ConfigFile.decode: the bounds of a run", () => {
  it("default to the SDK's named defaults (Waits), and take what the file says", () => {
    const defaults = Either.getOrThrow(ConfigFile.decode("acme.yaml", base))
    expect(Duration.equals(defaults.ca.requestTimeout, Waits.defaultRequestTimeout)).toBe(true)
    expect(Duration.toSeconds(defaults.ca.requestTimeout)).toBe(30)
    expect(defaults.ca.maxBodyBytes).toBe(Waits.defaultMaxBodyBytes)
    expect(defaults.ca.maxBodyBytes).toBe(1024 * 1024)
    expect(Duration.equals(defaults.renewal.maxRunTime, Waits.defaultMaxRunTime)).toBe(true)
    expect(Duration.toMinutes(defaults.renewal.maxRunTime)).toBe(30)
    expect(defaults.renewal.maxAttempts).toBe(Waits.defaultMaxAttempts)
    expect(Duration.equals(defaults.renewal.maxWait, Waits.defaultMaxWait)).toBe(true)

    const given = Either.getOrThrow(ConfigFile.decode("acme.yaml", {
      ...base,
      ca: { ...base.ca, requestTimeout: "5 seconds", maxBodyBytes: 65536 },
      renewal: { maxRunTime: "10 minutes", maxAttempts: 2, maxWait: 90 }
    }))
    expect(Duration.toSeconds(given.ca.requestTimeout)).toBe(5)
    expect(given.ca.maxBodyBytes).toBe(65536)
    expect(Duration.toMinutes(given.renewal.maxRunTime)).toBe(10)
    expect(given.renewal.maxAttempts).toBe(2)
    expect(Duration.toSeconds(given.renewal.maxWait)).toBe(90)
  })

  it.each([
    [{ ...base, ca: { ...base.ca, requestTimeout: "500 millis" } }, "ca.requestTimeout", "at least 1 second"],
    [{ ...base, ca: { ...base.ca, maxBodyBytes: 1000 } }, "ca.maxBodyBytes", "from 16384 (16 KiB) to 67108864 (64 MiB)"],
    [{ ...base, renewal: { maxRunTime: "never" } }, "renewal.maxRunTime", "is not a duration"],
    [{ ...base, renewal: { maxAttempts: 0 } }, "renewal.maxAttempts", "acme.yaml: renewal.maxAttempts"]
  ])("a bound out of range is one line naming it: %#", (data, key, text) => {
    const message = messageOf(data)
    expect(message).toContain(key)
    expect(message).toContain(text)
    expect(message).not.toContain("\n")
  })
})

describe("ConfigFile.decode: messages", () => {
  it("accepts a valid configuration, with the defaults filled in", () => {
    const config = Either.getOrThrow(ConfigFile.decode("acme.yaml", base))
    expect(config.account).toEqual({ key: "ES256", name: "default", agreeToTerms: true })
    expect(config.renewal.maxAttempts).toBe(5)
    expect(config.certificates[0].key).toBe("ec-p256")
  })

  it.each([
    [
      "a bad name, second certificate",
      { ...base, certificates: [base.certificates[0], { ...base.certificates[0], name: "../x" }] },
      `acme.yaml: certificates[1].name: "../x" cannot be a certificate name: use 1 to 64 letters, digits, ".", "_" or "-", not starting with "." (it becomes a folder name, so no "/", ".." or spaces)`
    ],
    [
      "an unknown key type",
      withCertificate({ key: "rsa-1024" }),
      `acme.yaml: certificates[0].key: "rsa-1024" is not allowed here: use one of "ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096"`
    ],
    [
      "a bad domain",
      withCertificate({ domains: ["example.org", "not a host!"] }),
      `acme.yaml: certificates[0].domains[1]: "not a host!" is not a valid DNS name or IP address (examples: example.org, *.example.org, 192.0.2.1)`
    ],
    [
      "an unknown challenge type",
      withCertificate({ challenge: { type: "http-02" } }),
      `acme.yaml: certificates[0].challenge.type: "http-02" is not allowed here: use one of "http-01", "dns-01", "dns-account-01", "tls-alpn-01"`
    ],
    [
      "a port out of range",
      withCertificate({ challenge: { type: "http-01", port: 99999 } }),
      "acme.yaml: certificates[0].challenge.port: a port is a whole number from 1 to 65535"
    ],
    [
      "a port that is not a number",
      withCertificate({ challenge: { type: "tls-alpn-01", port: "https" } }),
      `acme.yaml: certificates[0].challenge.port: expected a number, got "https"`
    ],
    [
      "webroot and port",
      withCertificate({ challenge: { type: "http-01", port: 80, webroot: "/var/www" } }),
      "acme.yaml: certificates[0].challenge: http-01 takes either webroot (files for a running web server) or port/address (our own server), not both"
    ],
    [
      "a name used twice",
      { ...base, certificates: [base.certificates[0], base.certificates[0]] },
      `acme.yaml: certificates[1].name: the name "web" is used twice; names must be unique`
    ],
    [
      "a duration in words it does not know",
      { ...base, renewal: { maxWait: "forever" } },
      `acme.yaml: renewal.maxWait: "forever" is not a duration; write e.g. "90 seconds", "10 minutes", "1 hour"`
    ],
    [
      "a misspelt key",
      { ...base, renewal: { daysbefore: 30 } },
      "acme.yaml: renewal.daysbefore: unknown key; the keys allowed here are daysBefore, maxAttempts, maxWait, maxRunTime, leaseTtl (check the spelling)"
    ],
    [
      "a missing section",
      { ca: base.ca, certificates: base.certificates },
      "acme.yaml: storage: is required: add `storage:` with `path:` (the folder for certificates, keys and accounts)"
    ],
    ["no certificates", { ...base, certificates: [] }, "acme.yaml: certificates: is empty: give it at least one certificate (name, domains, challenge)"],
    ["an empty section", { ...base, renewal: null }, "acme.yaml: renewal: is empty: give it a mapping (key: value), or remove it"],
    [
      "a secret that is neither a value nor { env: NAME }",
      { ...base, ca: { ...base.ca, eab: { kid: 3, hmacKey: { env: "1x" } } } },
      `acme.yaml: ca.eab.kid: expected a string or { env: NAME }, got 3; ca.eab.hmacKey.env: "1x" is not an environment variable name: use letters, digits and "_", not starting with a digit`
    ],
    [
      "a bad e-mail address",
      { ...base, account: { email: "nope" } },
      "acme.yaml: account.email: expected an e-mail address"
    ],
    [
      "a directory that is neither a URL nor a preset",
      { ...base, ca: { directory: "ftp://example.org" } },
      `acme.yaml: ca.directory: "ftp://example.org" is neither a directory URL (https://...) nor a preset (letsencrypt, letsencrypt-staging, zerossl, google, google-staging, buypass, buypass-test, sslcom-rsa, sslcom-ecc)`
    ],
    [
      "not a mapping at all",
      null,
      "acme.yaml: the file must hold a mapping (key: value) with ca, storage and certificates, not null"
    ],
    [
      "many problems: the first three, and how many more",
      { ca: {}, storage: {}, certificates: [{ name: "a/b", domains: [], challenge: {} }] },
      "acme.yaml: ca.directory: is required: add the CA's directory URL, or a preset: letsencrypt, letsencrypt-staging, zerossl, google, google-staging, buypass, buypass-test, sslcom-rsa, sslcom-ecc; storage.path: is required: add the folder for certificates, keys and accounts (relative to this file's folder, or absolute); certificates[0].name: \"a/b\" cannot be a certificate name: use 1 to 64 letters, digits, \".\", \"_\" or \"-\", not starting with \".\" (it becomes a folder name, so no \"/\", \"..\" or spaces); and 2 more problems"
    ]
  ])("%s", (_, data, expected) => {
    expect(messageOf(data)).toBe(expected)
  })
})

describe("ConfigFile.parse", () => {
  it("names the line of a YAML syntax error", () => {
    const result = ConfigFile.parse("acme.yaml", "ca:\n  directory: [unclosed\nstorage: x\n")
    expect(Either.isLeft(result) ? result.left.message : "").toMatch(
      /^acme\.yaml: invalid YAML: .+ at line \d+, column \d+; fix the syntax/
    )
  })

  it("refuses a key given twice", () => {
    const result = ConfigFile.parse("acme.yaml", "ca: {}\nca: {}\n")
    expect(Either.isLeft(result) ? result.left.message : "").toContain("Map keys must be unique")
  })

  it("reads JSON", () => {
    expect(ConfigFile.parse("acme.json", JSON.stringify(base))).toEqual(Either.right(base))
  })

  it("reads JSON with quotes, colons and escapes inside strings as YAML does", () => {
    const text = String.raw`{ "a\"b": "x\": y", "c": [ { "d:": "\u0065" }, "\\" ], "e": { } }`
    const expected = { "a\"b": "x\": y", c: [{ "d:": "e" }, "\\"], e: {} }
    expect(ConfigFile.parse("acme.json", text)).toEqual(Either.right(expected))
  })

  it("refuses a key given twice in JSON (as in YAML), nested or escaped", () => {
    for (const text of [`{ "ca": {}, "ca": {} }`, String.raw`{ "x": [ { "a": 1, "\u0061": 2 } ] }`]) {
      const result = ConfigFile.parse("acme.json", text)
      expect(Either.isLeft(result) ? result.left.message : "").toContain("Map keys must be unique")
    }
  })
})

/** decodes, then finds each provider and checks its options (what `ConfigFile.load` does) */
const providerMessageOf = (data: unknown): Promise<string> =>
  Effect.runPromise(
    Effect.gen(function*() {
      const config = yield* ConfigFile.decode("acme.yaml", data)
      yield* Registry.resolveProviders({ file: "acme.yaml", directory: import.meta.dirname, config })
      return "resolved"
    }).pipe(Effect.catchAll((error) => Effect.succeed(error.message)))
  )

describe("providers: messages", () => {
  it.each([
    [
      "dns-01 without its url",
      withCertificate({ challenge: { type: "dns-01", provider: "challtestsrv" } }),
      "acme.yaml: certificates[0].challenge.url: is required: add the URL of the DNS provider's API"
    ],
    [
      "a key the DNS provider does not know",
      withCertificate({ challenge: { type: "dns-01", provider: "challtestsrv", url: "http://127.0.0.1:8055", token: "x" } }),
      "acme.yaml: certificates[0].challenge.token: unknown key; the keys allowed here are url (check the spelling)"
    ],
    [
      "an unknown DNS provider",
      withCertificate({ challenge: { type: "dns-01", provider: "godaddy" } }),
      `acme.yaml: certificates[0].challenge.provider: unknown DNS provider "godaddy"; use one of rfc2136, cloudflare, route53, acme-dns, challtestsrv, or name the package that provides it with \`plugin:\``
    ],
    [
      "propagation settings that are not",
      withCertificate({ challenge: { type: "dns-01", provider: "challtestsrv", url: "http://127.0.0.1:8055", propagation: { timeout: "soon" } } }),
      `acme.yaml: certificates[0].challenge.propagation.timeout: "soon" is not a duration`
    ],
    [
      "rfc2136 without its TSIG key",
      withCertificate({ challenge: { type: "dns-01", provider: "rfc2136", server: "127.0.0.1:5353" } }),
      "acme.yaml: certificates[0].challenge.tsig: is required"
    ],
    [
      "an unknown planner",
      { ...base, planner: { provider: "oracle" } },
      `acme.yaml: planner.provider: unknown planner "oracle"; use one of deterministic, anthropic, openai, openai-compatible`
    ],
    [
      "options for the deterministic reporter",
      { ...base, reporter: { provider: "deterministic", model: "x" } },
      "acme.yaml: reporter: the deterministic reporter takes no options; remove model"
    ],
    [
      "an unknown storage type",
      { ...base, storage: { type: "s3", bucket: "certs" } },
      `acme.yaml: storage.type: unknown storage type "s3"; use one of file, postgres, or name the package that provides it with \`plugin:\``
    ],
    [
      "file storage without a path",
      { ...base, storage: {} },
      "acme.yaml: storage.path: is required: add the folder for certificates, keys and accounts"
    ],
    [
      "postgres storage without its encryption key",
      { ...base, storage: { type: "postgres", url: { env: "ACME_DATABASE_URL" } } },
      "acme.yaml: storage.encryptionKey: is required: add { env: NAME } or { file: PATH } with 32 random bytes in base64 (make them with: openssl rand -base64 32)"
    ],
    [
      "postgres storage without its URL",
      { ...base, storage: { type: "postgres", encryptionKey: { env: "K" } } },
      "acme.yaml: storage.url: is required: add the database's postgres:// URL, or { env: NAME }"
    ],
    [
      "postgres storage with a key that is neither { env } nor { file }",
      { ...base, storage: { type: "postgres", url: "postgres://db/acme", encryptionKey: "c2VjcmV0" } },
      "acme.yaml: storage.encryptionKey:"
    ],
    [
      "postgres storage with a path (a file storage key)",
      { ...base, storage: { type: "postgres", url: "postgres://db/acme", encryptionKey: { env: "K" }, path: "./x" } },
      "acme.yaml: storage.path: unknown key; the keys allowed here are url, encryptionKey, export (check the spelling)"
    ],
    [
      "a plugin package that is not installed",
      { ...base, planner: { provider: "magic", plugin: "acme-plugin-that-does-not-exist" } },
      `acme.yaml: planner.plugin: cannot find the plugin package "acme-plugin-that-does-not-exist" from`
    ]
  ])("%s", async (_, data, expected) => {
    expect(await providerMessageOf(data)).toContain(expected)
  })

  it("a valid configuration resolves to the built-in providers", async () => {
    expect(await providerMessageOf(base)).toBe("resolved")
  })
})
