/**
 * A wrong or missing configuration file: exit code 2, one line on stderr that names the file and
 * the bad value, nothing on stdout, and nothing created or changed in the storage folder.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { acme, snapshot, temporaryFolder } from "./support/cli.js"

const folder = temporaryFolder()
const storage = path.join(folder.path, "storage")

beforeAll(() => {
  // a storage folder with something in it: no failed run may touch it
  fs.mkdirSync(path.join(storage, "live", "web"), { recursive: true })
  fs.writeFileSync(path.join(storage, "live", "web", "cert.pem"), "untouched\n")
})
afterAll(() => folder.remove())

const certificate = { name: "web", domains: ["www.example.test"], challenge: { type: "http-01", port: 5002 } }
const valid = {
  ca: { directory: "https://127.0.0.1:1/dir" },
  storage: { path: "./storage" },
  certificates: [certificate]
}

/** Writes `content` as the config file `name` and runs `acme status --config name`. */
const statusWith = async (name: string, content: string, env: Readonly<Record<string, string | undefined>> = {}) => {
  fs.writeFileSync(path.join(folder.path, name), content)
  const before = snapshot(storage)
  const result = await acme(["status", "--config", name], { cwd: folder.path, env })
  expect(snapshot(storage)).toEqual(before)
  return result
}

const expectOneLine = (result: Awaited<ReturnType<typeof acme>>, ...parts: ReadonlyArray<string | RegExp>) => {
  expect(result.code).toBe(2)
  expect(result.stdout).toBe("")
  expect(result.stderrLines).toHaveLength(1)
  const line = result.stderrLines[0] ?? ""
  expect(line.startsWith("acme: ")).toBe(true)
  for (const part of parts) {
    if (typeof part === "string") expect(line).toContain(part)
    else expect(line).toMatch(part)
  }
  return line
}

describe("configuration errors (exit code 2, one line)", () => {
  it("no file: names the paths it looked at", async () => {
    const empty = temporaryFolder()
    try {
      const result = await acme(["renew"], { cwd: empty.path })
      expectOneLine(result, "./acme.yaml", "./acme.yml", "./acme.json", "--config", "acme init")
      expect(fs.readdirSync(empty.path)).toEqual([])
    } finally {
      empty.remove()
    }
  })

  it("--config naming a file that does not exist", async () => {
    const result = await acme(["renew", "--config", "nowhere.yaml"], { cwd: folder.path })
    expectOneLine(result, "nowhere.yaml: no such file")
  })

  it("$ACME_CONFIG naming a file that does not exist", async () => {
    const result = await acme(["status"], { cwd: folder.path, env: { ACME_CONFIG: "from-env.yaml" } })
    expectOneLine(result, "from-env.yaml: no such file", "$ACME_CONFIG")
  })

  it("invalid YAML", async () => {
    const result = await statusWith("syntax.yaml", "ca:\n  directory: [unclosed\nstorage: x\n")
    expectOneLine(result, /^acme: syntax\.yaml: invalid YAML: .*line \d+/)
  })

  it("a certificate name that climbs out of its folder: ../x", async () => {
    const result = await statusWith(
      "dotdot.json",
      JSON.stringify({ ...valid, certificates: [{ ...certificate, name: "../x" }] })
    )
    const line = expectOneLine(result, "dotdot.json: certificates[0].name: ")
    expect(line).toContain(`"../x" cannot be a certificate name`)
  })

  it("a certificate name with a slash: a/b", async () => {
    const result = await statusWith("slash.yaml", `
ca: { directory: letsencrypt-staging }
storage: { path: ./storage }
certificates:
  - name: a/b
    domains: [www.example.test]
    challenge: { type: http-01 }
`)
    expectOneLine(result, `acme: slash.yaml: certificates[0].name: "a/b" cannot be a certificate name`)
  })

  it("an unknown key type", async () => {
    const result = await statusWith(
      "keytype.json",
      JSON.stringify({ ...valid, certificates: [{ ...certificate, key: "rsa-1024" }] })
    )
    expectOneLine(result, `keytype.json: certificates[0].key: "rsa-1024" is not allowed here: use one of "ec-p256"`)
  })

  it("dns-account-01 with a draft revision it does not know", async () => {
    const challenge = { type: "dns-account-01", provider: "challtestsrv", url: "http://127.0.0.1:1", draft: "label-04" }
    const result = await statusWith(
      "draft.json",
      JSON.stringify({ ...valid, certificates: [{ ...certificate, challenge }] })
    )
    expectOneLine(
      result,
      `draft.json: certificates[0].challenge.draft: "label-04" is not allowed here: use one of "dns-account-label", "scoped-dns-challenges"`
    )
  })

  it("a domain that is neither a host name nor an IP address", async () => {
    const result = await statusWith(
      "domain.json",
      JSON.stringify({ ...valid, certificates: [{ ...certificate, domains: ["www.example.test", "not a host!"] }] })
    )
    expectOneLine(result, `domain.json: certificates[0].domains[1]: "not a host!" is not a valid DNS name or IP address`)
  })

  it("an environment variable for a secret that is not set", async () => {
    const result = await statusWith(
      "secret.yaml",
      `
ca:
  directory: letsencrypt-staging
  eab:
    kid: my-key-id
    hmacKey: { env: ACME_TEST_EAB_HMAC }
storage: { path: ./storage }
certificates:
  - { name: web, domains: [www.example.test], challenge: { type: http-01 } }
`,
      { ACME_TEST_EAB_HMAC: undefined }
    )
    expectOneLine(result, "acme: secret.yaml: ca.eab.hmacKey: environment variable ACME_TEST_EAB_HMAC is not set")
  })

  it("postgres storage whose URL or key variable is not set: one line before any connection", async () => {
    const storage = { type: "postgres", url: { env: "ACME_TEST_DATABASE_URL" }, encryptionKey: { env: "ACME_TEST_STORAGE_KEY" } }
    const config = JSON.stringify({ ...valid, storage })
    expectOneLine(
      await statusWith("pg.json", config, { ACME_TEST_DATABASE_URL: undefined, ACME_TEST_STORAGE_KEY: "x" }),
      "acme: environment: ACME_TEST_DATABASE_URL is not set (or is empty); set it in the environment acme runs in"
    )
    // a URL that points nowhere is never reached: the key is checked first
    expectOneLine(
      await statusWith("pg.json", config, {
        ACME_TEST_DATABASE_URL: "postgres://acme@127.0.0.1:1/acme",
        ACME_TEST_STORAGE_KEY: "too short"
      }),
      "acme: postgres: the storage encryption key in the environment variable ACME_TEST_STORAGE_KEY is not usable"
    )
  })

  it("a misspelt key is not ignored", async () => {
    const result = await statusWith("typo.json", JSON.stringify({ ...valid, renewal: { daysbefore: 30 } }))
    expectOneLine(result, "typo.json: renewal.daysbefore: unknown key", "daysBefore")
  })

  it("a missing section, and a trust file that does not exist", async () => {
    expectOneLine(
      await statusWith("nostorage.json", JSON.stringify({ ca: valid.ca, certificates: valid.certificates })),
      "nostorage.json: storage: is required"
    )
    expectOneLine(
      await statusWith("trust.json", JSON.stringify({ ...valid, ca: { ...valid.ca, trust: ["./missing-ca.pem"] } })),
      "trust.json: ca.trust[0]: cannot read ",
      "missing-ca.pem: no such file"
    )
  })

  it("an http:// directory URL: refused, unless ca.insecure says it is a test CA", async () => {
    const line = expectOneLine(
      await statusWith("http.json", JSON.stringify({ ...valid, ca: { directory: "http://127.0.0.1:1/dir" } })),
      "http.json: ca.directory: ",
      "http://127.0.0.1:1/dir",
      "https://",
      "ca.insecure: true"
    )
    expect(line).toContain("not encrypted")
    // allowed for a test CA: status reads the configuration (the CA itself cannot be reached)
    const insecure = await statusWith(
      "insecure.json",
      JSON.stringify({ ...valid, ca: { directory: "http://127.0.0.1:1/dir", insecure: true } })
    )
    expect(insecure.code, insecure.stderr).toBe(0)
    expect(insecure.stdout).toContain("CA http://127.0.0.1:1/dir")
  })

  it("a wildcard with http-01 or tls-alpn-01: refused at load, naming the certificate and dns-01", async () => {
    for (const challenge of [{ type: "http-01", port: 5002 }, { type: "tls-alpn-01", port: 5001 }]) {
      const line = expectOneLine(
        await statusWith(
          "wildcard.json",
          JSON.stringify({
            ...valid,
            certificates: [certificate, { name: "star", domains: ["example.test", "*.example.test"], challenge }]
          })
        ),
        "wildcard.json: certificates[1].domains[1]: ",
        `"*.example.test"`,
        "star",
        challenge.type,
        "dns-01"
      )
      expect(line).not.toContain("; and ")
    }
  })

  it("an IP address with dns-01: refused at load, naming the certificate and http-01 or tls-alpn-01", async () => {
    expectOneLine(
      await statusWith(
        "ip.json",
        JSON.stringify({
          ...valid,
          certificates: [{ name: "addr", domains: ["192.0.2.1"], challenge: { type: "dns-01", provider: "challtestsrv", url: "http://127.0.0.1:1" } }]
        })
      ),
      "ip.json: certificates[0].domains[0]: ",
      `"192.0.2.1"`,
      "addr",
      "http-01 or tls-alpn-01"
    )
  })

  it("certificates: empty, an empty list or missing: the hints agree (add one; never \"remove it\")", async () => {
    const { certificates: _none, ...withoutCertificates } = valid
    const empty = expectOneLine(
      await statusWith("empty.json", JSON.stringify({ ...withoutCertificates, certificates: null })),
      "empty.json: certificates: ",
      "at least one certificate"
    )
    // `certificates: []` and a `certificates:` key with nothing under it, in YAML as users write them
    const emptyList = expectOneLine(
      await statusWith("list.yaml", "ca:\n  directory: https://127.0.0.1:1/dir\nstorage:\n  path: ./storage\ncertificates: []\n"),
      "list.yaml: certificates: "
    )
    const bare = expectOneLine(
      await statusWith("bare.yaml", "ca:\n  directory: https://127.0.0.1:1/dir\nstorage:\n  path: ./storage\ncertificates:\n"),
      "bare.yaml: certificates: "
    )
    const missing = expectOneLine(
      await statusWith("missing.json", JSON.stringify(withoutCertificates)),
      "missing.json: certificates: ",
      "at least one certificate"
    )
    for (const line of [empty, emptyList, bare, missing]) expect(line).not.toContain("remove")
    // an empty list and an empty key are the same mistake, with the same fix (the one a missing key gets, reworded)
    const fix = "is empty: give it at least one certificate (name, domains, challenge)"
    expect(empty).toBe(`acme: empty.json: certificates: ${fix}`)
    expect(emptyList).toBe(`acme: list.yaml: certificates: ${fix}`)
    expect(bare).toBe(`acme: bare.yaml: certificates: ${fix}`)
    expect(missing).toBe(
      "acme: missing.json: certificates: is required: add `certificates:` with at least one certificate (name, domains, challenge)"
    )
  })

  it("renew with an impossible combination: exit 2 at load, naming the certificate (its *.) and what to use; nothing created", async () => {
    const cases = [
      {
        file: "renew-wildcard.json",
        certificates: [certificate, { name: "star", domains: ["*.example.test"], challenge: { type: "http-01", port: 5002 } }],
        parts: [`"*.example.test"`, "star", "http-01", "dns-01"]
      },
      {
        file: "renew-ip.json",
        certificates: [{ name: "addr", domains: ["192.0.2.1"], challenge: { type: "dns-01", provider: "challtestsrv", url: "http://127.0.0.1:1" } }],
        parts: [`"192.0.2.1"`, "addr", "dns-01", "http-01 or tls-alpn-01"]
      }
    ]
    for (const { file, certificates, parts } of cases) {
      // a storage folder of its own that does not exist yet: a run that went on would make it (its run lease, the account)
      const fresh = `./fresh-${file}`
      fs.writeFileSync(
        path.join(folder.path, file),
        JSON.stringify({ ...valid, storage: { path: fresh }, renewal: { maxAttempts: 1 }, certificates })
      )
      const result = await acme(["renew", "--config", file], { cwd: folder.path })
      expectOneLine(result, `${file}: certificates[`, ...parts)
      expect(fs.existsSync(path.join(folder.path, fresh))).toBe(false)
    }
  })

  it("a name that is not configured: revoke --name and renew --only both exit 2", async () => {
    fs.writeFileSync(path.join(folder.path, "names.json"), JSON.stringify(valid))
    for (const args of [["revoke", "--name", "nope"], ["renew", "--only", "nope"]]) {
      const before = snapshot(storage)
      const result = await acme([...args, "--config", "names.json"], { cwd: folder.path })
      expect(snapshot(storage)).toEqual(before)
      expectOneLine(result, `${args[1]} nope: no such certificate in names.json; the configured names are web`)
    }
  })

  it("a name that cannot be a certificate name: the CertificateName Schema refuses it on the command line, exit 2", async () => {
    fs.writeFileSync(path.join(folder.path, "names.json"), JSON.stringify(valid))
    for (
      const args of [["revoke", "--name", "../etc"], ["renew", "--only", "a b"], ["status", "--only", "web", "--only", ".x"]]
    ) {
      const before = snapshot(storage)
      const result = await acme([...args, "--config", "names.json"], { cwd: folder.path })
      expect(snapshot(storage)).toEqual(before)
      const bad = args.at(-1) ?? ""
      expectOneLine(result, `"${bad}" cannot be a certificate name: use 1 to 64 letters, digits`)
      expect(result.stderr).not.toContain("└─")
      expect(result.stderr).not.toContain("Predicate refinement")
    }
  })

  it("with --json: the error as the one JSON document on stdout", async () => {
    fs.writeFileSync(path.join(folder.path, "bad.json"), JSON.stringify({ ...valid, certificates: [] }))
    const result = await acme(["renew", "--json", "--config", "bad.json"], { cwd: folder.path })
    expect(result.code).toBe(2)
    expect(JSON.parse(result.stdout)).toEqual({
      error: { type: "ConfigFileError", exitCode: 2, message: "bad.json: certificates: is empty: give it at least one certificate (name, domains, challenge)" }
    })
    expect(result.stderrLines).toEqual(["acme: bad.json: certificates: is empty: give it at least one certificate (name, domains, challenge)"])
  })
})
