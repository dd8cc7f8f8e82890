/**
 * `--help` of every command exits 0 and shows its examples; a bad command line exits 2 with one line.
 */
import { describe, expect, it } from "vitest"
import { version } from "../src/version.js"
import { acme, binary, stripAnsi } from "./support/cli.js"

const commands: ReadonlyArray<ReadonlyArray<string>> = [
  [],
  ["renew"],
  ["issue"],
  ["revoke"],
  ["status"],
  ["account"],
  ["account", "show"],
  ["account", "rollover"],
  ["account", "deactivate"],
  ["account", "update-contact"],
  ["init"],
  ["install"],
  ["demo"],
  ["serve"],
  ["apikey"],
  ["apikey", "create"],
  ["apikey", "list"],
  ["apikey", "revoke"],
  ["audit"]
]

describe("help", () => {
  // one run of each command's help checks all of it: exit 0, examples, the whole command named,
  // every option with a description of its own, no line wider than 80 columns in a pipe
  for (const command of commands) {
    it(`acme ${command.join(" ")} --help: every option described, no line over 80 columns in a pipe`, async () => {
      const result = await acme([...command, "--help"])
      expect(result.code).toBe(0)
      expect(result.stderr).toBe("")
      const help = stripAnsi(result.stdout)
      expect(help).toContain("EXAMPLES")
      expect(help).toContain(`$ acme ${command.join(" ")}`.trimEnd())
      const lines = result.stdout.split("\n")
      expect(lines.filter((line) => line.length > 80)).toEqual([])
      expect(result.stdout).not.toMatch(/A user-defined piece of text|A true or false value|This setting is optional/)
      if (!lines.includes("OPTIONS")) return
      const options = lines.slice(lines.indexOf("OPTIONS") + 1)
      // each option is a line "  --name ..." followed by at least one description line (6 spaces in)
      options.forEach((line, index) => {
        if (/^ {2}-/.test(line)) expect(options[index + 1] ?? "", line).toMatch(/^ {6}\S/)
      })
    })
  }

  it("USAGE names the whole command: $ acme renew, $ acme account show", async () => {
    for (const command of [["renew"], ["account", "show"], ["init"]]) {
      const result = await acme([...command, "--help"])
      const lines = result.stdout.split("\n")
      const usage = lines.indexOf("USAGE")
      expect(usage, result.stdout).toBeGreaterThanOrEqual(0)
      expect(lines[usage + 1]).toMatch(new RegExp(`^ {2}\\$ acme ${command.join(" ")}( |$)`))
    }
  })

  it("no colour in a pipe, or on a terminal with NO_COLOR; bold headings on a terminal", async () => {
    const piped = await acme(["renew", "--help"])
    expect(piped.stdout).not.toContain("\u001b")
    // `script` gives the command a terminal
    const onTerminal = (env: Readonly<Record<string, string | undefined>>) =>
      acme(["-qec", `${JSON.stringify(process.execPath)} ${JSON.stringify(binary)} renew --help`, "/dev/null"], {
        env,
        command: "script"
      })
    const colour = await onTerminal({ NO_COLOR: undefined })
    expect(colour.code).toBe(0)
    expect(colour.stdout).toContain("\u001b[1mUSAGE")
    const noColour = await onTerminal({ NO_COLOR: "1" })
    expect(noColour.code).toBe(0)
    expect(noColour.stdout).toContain("USAGE")
    expect(noColour.stdout).not.toContain("\u001b")
  })

  it("on a terminal of 60 columns: no line of any help wider than 60; NO_COLOR wins over FORCE_COLOR", async () => {
    // `script` gives the command a terminal, `stty` makes it 60 columns wide (what node reads as stdout.columns)
    const onTerminal = (args: ReadonlyArray<string>, env: Readonly<Record<string, string | undefined>> = {}) =>
      acme([
        "-qec",
        `stty cols 60 && ${[process.execPath, binary, ...args].map((word) => JSON.stringify(word)).join(" ")}`,
        "/dev/null"
      ], { env: { NO_COLOR: undefined, FORCE_COLOR: undefined, ...env }, command: "script" })
    for (const command of [[], ["renew"], ["issue"], ["doctor"], ["account", "rollover"], ["install"]]) {
      const result = await onTerminal([...command, "--help"])
      expect(result.code).toBe(0)
      // the terminal ends lines with \r\n
      const lines = stripAnsi(result.stdout).split(/\r?\n/)
      expect(lines.join("\n")).toContain("EXAMPLES")
      expect(lines.filter((line) => line.length > 60), command.join(" ")).toEqual([])
      // wrapped to the terminal, not to the 80 columns of a pipe: something uses the width
      expect(Math.max(...lines.map((line) => line.length)), command.join(" ")).toBeGreaterThan(50)
    }
    // FORCE_COLOR colours neither a pipe nor, with NO_COLOR set, a terminal
    const forcedPipe = await acme(["renew", "--help"], { env: { FORCE_COLOR: "1", NO_COLOR: undefined } })
    expect(forcedPipe.stdout).toContain("USAGE")
    expect(forcedPipe.stdout).not.toContain("\u001b")
    const forcedTerminal = await onTerminal(["renew", "--help"], { FORCE_COLOR: "1", NO_COLOR: "1" })
    expect(forcedTerminal.code).toBe(0)
    expect(forcedTerminal.stdout).toContain("USAGE")
    expect(forcedTerminal.stdout).not.toContain("\u001b")
    // nor a warning from node about the two (the terminal shows stderr too)
    expect(forcedTerminal.stdout).not.toContain("Warning")
    const forcedError = await onTerminal(["renew", "--frobnicate"], { FORCE_COLOR: "1", NO_COLOR: "1" })
    expect(forcedError.code).toBe(2)
    expect(forcedError.stdout.trim().split(/\r?\n/)).toEqual([expect.stringMatching(/^acme: Received unknown argument: '--frobnicate'/)])
    // and the same terminal without NO_COLOR has colour: the check above is not vacuous
    expect((await onTerminal(["renew", "--help"], { FORCE_COLOR: "1" })).stdout).toContain("\u001b[1mUSAGE")
  })

  it("acme and acme account alone print their help (exit 0)", async () => {
    for (const command of [[], ["account"]]) {
      const result = await acme(command)
      expect(result.code).toBe(0)
      expect(result.stdout).toContain(`$ acme ${[...command, "COMMAND"].join(" ")}`)
      expect(result.stdout).toContain("COMMANDS")
      expect(result.stdout).not.toContain("\u001b")
    }
  })

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
    [["-c", "f.yaml", "status"], "options go after the command; write `acme status -c f.yaml`"],
    [["-v", "account", "show"], "options go after the command; write `acme account show -v`"],
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
