/**
 * `--help` of every command exits 0 and shows its examples; a bad command line exits 2 with one line.
 */
import { describe, expect, it } from "vitest"
import { version } from "../src/version.js"
import { acme, stripAnsi } from "./support/cli.js"

const commands: ReadonlyArray<ReadonlyArray<string>> = [
  [],
  ["renew"],
  ["revoke"],
  ["status"],
  ["account"],
  ["account", "show"],
  ["account", "rollover"],
  ["account", "deactivate"],
  ["account", "update-contact"],
  ["init"],
  ["demo"],
  ["serve"],
  ["apikey"],
  ["apikey", "create"],
  ["apikey", "list"],
  ["apikey", "revoke"],
  ["audit"]
]

describe("help", () => {
  for (const command of commands) {
    it(`acme ${command.join(" ")} --help`, async () => {
      const result = await acme([...command, "--help"])
      expect(result.code).toBe(0)
      expect(result.stderr).toBe("")
      const help = stripAnsi(result.stdout)
      expect(help).toContain("EXAMPLES")
      expect(help).toContain(`$ acme ${command.join(" ")}`.trimEnd())
    })
  }

  it("--version prints the version, the same as package.json's", async () => {
    const result = await acme(["--version"])
    expect(result.code).toBe(0)
    expect(result.stdout.trim()).toBe(version)
    const packageJson: unknown = JSON.parse(
      await import("node:fs").then((fs) => fs.readFileSync(new URL("../package.json", import.meta.url), "utf8"))
    )
    expect(packageJson).toMatchObject({ version })
  })
})

describe("a bad command line: exit code 2, one line", () => {
  const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
    [["renew", "--frobnicate"], "--frobnicate"],
    [["renew", "--only"], "--only needs a certificate name"],
    [["renew", "--only", "--force"], "--only needs a certificate name"],
    [["frobnicate"], "Invalid subcommand"],
    [["revoke"], "--name"],
    [["revoke", "--name", "web", "--reason", "boredom"], "keyCompromise"],
    [["account", "rollover", "--key", "ES512"], "ES256"],
    [["account", "deactivate"], "--yes"],
    [["account", "update-contact", "--email", "not-an-address"], "not an e-mail address"],
    [["serve", "--listen", "localhost"], "not a listen address"],
    [["apikey", "create", "--name", "ci", "--scope", "admin"], "write"],
    [["audit", "--since", "yesterday-ish"], "neither a time nor a duration"]
  ]
  for (const [args, mentions] of cases) {
    it(`acme ${args.join(" ")}`, async () => {
      const result = await acme(args)
      expect(result.code).toBe(2)
      expect(result.stdout).toBe("")
      expect(result.stderrLines).toHaveLength(1)
      expect(result.stderrLines[0]).toMatch(/^acme: /)
      expect(result.stderrLines[0]).toContain(mentions)
    })
  }

  it("with --json, the error is the one JSON document on stdout", async () => {
    const result = await acme(["status", "--json", "--frobnicate"])
    expect(result.code).toBe(2)
    expect(JSON.parse(result.stdout)).toMatchObject({ error: { exitCode: 2 } })
  })
})
