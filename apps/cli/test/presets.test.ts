/**
 * CA presets: each preset's constraints (EAB required, key types, profiles) are checked before any
 * network call, and each preset's shape works against a Pebble configured the same way, reached by
 * pointing the preset at the harness (`ca: { preset: <name>, directory: <Pebble's URL> }`).
 */
import { X509Certificate } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { CaPreset } from "@acme/sdk"
import { Pebble } from "@acme/testing"
import { describe, expect, it, layer } from "@effect/vitest"
import { Effect, Option, Schema } from "effect"
import { acme, type Options, snapshot, temporaryFolder } from "./support/cli.js"

const eabKeyId = "kid-presets"
const eabHmacKey = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"

const ErrorDocument = Schema.Struct({ error: Schema.Struct({ type: Schema.String, message: Schema.String }) })

const withEab = CaPreset.all.filter((preset) => preset.eab === "required")
const withoutEab = CaPreset.all.filter((preset) => preset.eab === "no")

/** Writes a config for one certificate and runs `acme <args> --config acme.json --json` in a new folder. */
const run = (
  ca: Record<string, unknown>,
  certificate: Record<string, unknown>,
  args: ReadonlyArray<string>,
  options: Options = {}
) =>
  Effect.acquireUseRelease(
    Effect.sync(() => temporaryFolder("acme-presets-")),
    (folder) =>
      Effect.promise(async () => {
        const storage = path.join(folder.path, "storage")
        const config = {
          ca,
          storage: { path: storage },
          renewal: { maxAttempts: 1 },
          certificates: [{ name: "site", ...certificate }]
        }
        fs.writeFileSync(path.join(folder.path, "acme.json"), JSON.stringify(config))
        const result = await acme([...args, "--config", "acme.json", "--json"], { cwd: folder.path, ...options })
        const live = path.join(storage, "live", "site", "cert.pem")
        return {
          ...result,
          certificate: fs.existsSync(live) ? new X509Certificate(fs.readFileSync(live)) : undefined,
          files: snapshot(storage)
        }
      }),
    (folder) => Effect.sync(folder.remove)
  )

const dns01 = (pebble: Pebble.Service) => ({ type: "dns-01", provider: "challtestsrv", url: pebble.challtestsrvUrl })

/** exit code 2, and the `--json` error document names ConfigFileError with a one-line message */
const expectConfigError = (result: { code: number | null; stdout: string }) => {
  expect(result.code).toBe(2)
  const document = Schema.decodeUnknownSync(ErrorDocument)(JSON.parse(result.stdout))
  expect(document.error.type).toBe("ConfigFileError")
  expect(document.error.message).not.toContain("\n")
  return document.error.message
}

const titleOf = (name: string) => CaPreset.find(name).pipe(Option.map((preset) => preset.title), Option.getOrThrow)

describe.concurrent("checked before any network call (the directory URL does not answer)", () => {
  const unreachable = "https://127.0.0.1:1/directory"
  const certificate = { domains: ["www.example.test"], challenge: { type: "http-01", port: 5002 } }

  for (const { name } of withEab) {
    it.effect(`${name} without EAB credentials: says that they are needed and where to get them`, () =>
      Effect.gen(function*() {
        const result = yield* run({ directory: unreachable, preset: name }, certificate, ["renew"])
        const line = expectConfigError(result)
        expect(line).toContain(`acme.json: ca.eab: ${titleOf(name)} requires External Account Binding`)
        expect(line).toContain("ACME_EAB_KID")
        expect(result.files).toEqual({})
      }))
  }

  it.effect("the preset's name as the directory applies the same check", () =>
    Effect.gen(function*() {
      const result = yield* run({ directory: "zerossl" }, certificate, ["renew"])
      expect(expectConfigError(result)).toContain("ca.eab: ZeroSSL requires External Account Binding")
    }))

  it.effect("a key type the CA does not issue for", () =>
    Effect.gen(function*() {
      const result = yield* run(
        { directory: unreachable, preset: "sslcom-ecc", eab: { kid: eabKeyId, hmacKey: eabHmacKey } },
        { ...certificate, key: "rsa-2048" },
        ["renew"]
      )
      expect(expectConfigError(result)).toContain(
        "certificates[0].key: SSL.com (ECC) does not issue certificates for rsa-2048 keys: use ec-p256, ec-p384"
      )
      expect(result.files).toEqual({})
    }))

  it.effect("a profile the CA does not offer, and a CA without profiles", () =>
    Effect.gen(function*() {
      const unknown = yield* run({ directory: unreachable, preset: "letsencrypt" }, {
        ...certificate,
        profile: "longlived"
      }, ["renew"])
      expect(expectConfigError(unknown)).toContain(
        `certificates[0].profile: Let's Encrypt does not offer the profile "longlived": use classic, tlsserver, shortlived`
      )
      const none = yield* run({ directory: unreachable, preset: "buypass" }, { ...certificate, profile: "classic" }, [
        "renew"
      ])
      expect(expectConfigError(none)).toContain("certificates[0].profile: Buypass Go SSL offers no ACME profiles")
    }))

  it.effect("Let's Encrypt in 2026: tlsclient is retired (no more client-auth EKU); IP addresses need shortlived", () =>
    Effect.gen(function*() {
      const client = yield* run({ directory: unreachable, preset: "letsencrypt" }, {
        ...certificate,
        profile: "tlsclient"
      }, ["renew"])
      const retired = expectConfigError(client)
      expect(retired).toContain("certificates[0].profile: Let's Encrypt retired the tlsclient profile in 2026")
      expect(retired).toContain("TLS Client Authentication EKU")
      expect(client.files).toEqual({})

      const ip = { domains: ["192.0.2.10", "www.example.test"], challenge: { type: "http-01", port: 5002 } }
      const classic = yield* run({ directory: "letsencrypt-staging" }, { ...ip, profile: "classic" }, ["renew"])
      expect(expectConfigError(classic)).toContain(
        "certificates[0].profile: Let's Encrypt (staging) issues certificates for IP addresses (192.0.2.10) only with the shortlived profile: set `profile: shortlived`"
      )
      const none = yield* run({ directory: unreachable, preset: "letsencrypt" }, ip, ["renew"])
      expect(expectConfigError(none)).toContain("only with the shortlived profile")
      // with shortlived the check passes, and the run goes on to the (unreachable) CA
      const shortlived = yield* run({ directory: unreachable, preset: "letsencrypt" }, { ...ip, profile: "shortlived" }, [
        "renew"
      ])
      expect(shortlived.code).toBe(1)
      expect(shortlived.stdout).not.toContain("ConfigFileError")
      // another CA's preset has no such rule
      const buypass = yield* run({ directory: unreachable, preset: "buypass" }, ip, ["renew"])
      expect(buypass.code).toBe(1)
      expect(buypass.stdout).not.toContain("ConfigFileError")
    }), 120_000) // six runs of the CLI, one after another

  it.effect("only one of the two EAB variables set", () =>
    Effect.gen(function*() {
      const result = yield* run({ directory: unreachable, preset: "google" }, certificate, ["renew"], {
        env: { ACME_EAB_KID: eabKeyId }
      })
      expect(expectConfigError(result)).toContain(
        "ca.eab: ACME_EAB_KID is set but ACME_EAB_HMAC_KEY is not; set both"
      )
    }))

  it.effect("an unknown preset", () =>
    Effect.gen(function*() {
      const result = yield* run({ directory: unreachable, preset: "letsencrypt-prod" }, certificate, ["renew"])
      expect(expectConfigError(result)).toContain(`ca.preset: "letsencrypt-prod" is not a preset: use one of letsencrypt,`)
    }))
})

const issues = (
  pebble: Pebble.Service,
  preset: CaPreset.CaPreset,
  ca: Record<string, unknown>,
  options: Options = {}
) =>
  Effect.gen(function*() {
    const domain = `${preset.name}.presets.example.test`
    const key = preset.keyTypes[0] ?? "ec-p256"
    const result = yield* run(
      { directory: pebble.directoryUrl, preset: preset.name, trust: [pebble.caBundle], ...ca },
      { domains: [domain], key, challenge: dns01(pebble) },
      ["renew"],
      options
    )
    expect(result.stderr).not.toContain(eabHmacKey)
    expect(result.code).toBe(0)
    expect(result.certificate?.subjectAltName).toBe(`DNS:${domain}`)
    const algorithm = result.certificate?.publicKey.asymmetricKeyType
    expect(algorithm).toBe(key.startsWith("rsa") ? "rsa" : "ec")
  })

layer(Pebble.layer({ eab: { required: true, keys: { [eabKeyId]: eabHmacKey } } }), { excludeTestServices: true })(
  "presets that require EAB, against a Pebble that requires it",
  (it) => {
    for (const preset of withEab) {
      it.effect(`${preset.name}: EAB credentials from the file`, () =>
        Effect.flatMap(Pebble.Pebble, (pebble) =>
          issues(pebble, preset, { eab: { kid: eabKeyId, hmacKey: eabHmacKey } })))
    }

    it.effect("EAB credentials from ACME_EAB_KID and ACME_EAB_HMAC_KEY", () =>
      Effect.flatMap(Pebble.Pebble, (pebble) =>
        issues(pebble, { ...Option.getOrThrow(CaPreset.find("zerossl")), name: "zerossl" }, {}, {
          env: { ACME_EAB_KID: eabKeyId, ACME_EAB_HMAC_KEY: eabHmacKey }
        })))
  }
)

layer(Pebble.layer(), { excludeTestServices: true })("presets without EAB, against a Pebble without it", (it) => {
  for (const preset of withoutEab) {
    it.effect(`${preset.name}`, () => Effect.flatMap(Pebble.Pebble, (pebble) => issues(pebble, preset, {})))
  }
})
