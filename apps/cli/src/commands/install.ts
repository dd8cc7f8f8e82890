/**
 * `acme install`: writes the systemd service and timer that run `acme renew` twice a day with this
 * configuration (the unit text of SystemdUnits.ts), or prints the equivalent cron line.
 *
 * @since 0.1.0
 */
import { Command, Options } from "@effect/cli"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { Effect, Option, Random } from "effect"
import * as sea from "node:sea"
import * as AtomicFile from "../AtomicFile.js"
import { UsageError } from "../CliError.js"
import * as Common from "../Common.js"
import * as ConfigFile from "../ConfigFile.js"
import * as Output from "../Output.js"
import * as SystemdUnits from "../SystemdUnits.js"

const directory = Options.directory("dir").pipe(
  Options.withPseudoName("DIR"),
  Options.withDescription("Where to write acme.service and acme.timer. Default: /etc/systemd/system."),
  Options.withDefault("/etc/systemd/system")
)

const cron = Options.boolean("cron").pipe(
  Options.withDescription("Print a crontab line that runs acme renew twice a day instead of writing systemd units.")
)

const force = Options.boolean("force").pipe(
  Options.withDescription("Overwrite acme.service and acme.timer when they exist with other content.")
)

const binary = Options.file("binary", { exists: "yes" }).pipe(
  Options.withPseudoName("PATH"),
  Options.withDescription("The acme executable the units run. Default: this acme, as installed (not a source checkout)."),
  Options.optional
)

/** the installed acme that runs this process: the executable itself, or node and the bundle it runs */
const thisAcme = Effect.gen(function*() {
  if (sea.isSea()) return [process.execPath]
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const script = yield* fs.realPath(process.argv[1] ?? "").pipe(
    Effect.mapError(() => new UsageError({ message: "cannot tell where this acme is installed", hint: "give it with --binary PATH" }))
  )
  // a timer must not run a build inside a source checkout, which changes or goes away with it
  let folder = path.dirname(script)
  while (path.dirname(folder) !== folder) {
    if (yield* fs.exists(path.join(folder, "pnpm-workspace.yaml")).pipe(Effect.orElseSucceed(() => false))) {
      return yield* new UsageError({
        message: `this acme runs from the source checkout ${folder}, which a timer should not depend on`,
        hint: "install acme (npm install -g @acme/cli, or the .deb) and run its `acme install`, or give --binary PATH"
      })
    }
    folder = path.dirname(folder)
  }
  return [process.execPath, script]
})

/** whether a unit must be written: not when it is there as it would be; an error when it is there otherwise (without --force) */
const needsWriting = (file: string, text: string, overwrite: boolean) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const existing = yield* fs.readFileString(file).pipe(Effect.option)
    if (Option.isNone(existing)) return true
    if (existing.value === text) return false
    if (overwrite) return true
    return yield* new UsageError({
      message: `${file} exists with other content; it was left as it is`,
      hint: "compare it with what `acme install --dir /tmp/acme-units` writes, or pass --force to overwrite it"
    })
  })

/**
 * @since 0.1.0
 * @category commands
 */
export const install = Command.make(
  "install",
  { config: Common.config, verbose: Common.verbose, directory, cron, force, binary },
  (options) =>
    Effect.gen(function*() {
      const path = yield* Path.Path
      const loaded = yield* ConfigFile.load(options.config)
      const command = Option.isSome(options.binary) ? [path.resolve(options.binary.value)] : yield* thisAcme
      const webroots = loaded.settings.config.certificates.flatMap((certificate) =>
        certificate.challenge.type === "http-01" && certificate.challenge.webroot !== undefined
          ? [certificate.challenge.webroot]
          : []
      )
      const units: SystemdUnits.Options = {
        command,
        config: loaded.path,
        writable: [...new Set([...(loaded.storagePath !== undefined ? [loaded.storagePath] : []), ...webroots])],
        comment: [`Written by acme install for ${loaded.path}. Enable with: systemctl enable --now acme.timer`]
      }
      if (options.cron) {
        const time = { minute: yield* Random.nextIntBetween(0, 60), hour: yield* Random.nextIntBetween(0, 12) }
        return yield* Output.stdout(`${SystemdUnits.cronLine(units, time)}\n`)
      }
      const files = [
        { file: path.join(options.directory, "acme.service"), text: SystemdUnits.service(units) },
        { file: path.join(options.directory, "acme.timer"), text: SystemdUnits.timer(units) }
      ]
      // both checked before either is written
      const changed = yield* Effect.filter(files, (unit) => needsWriting(unit.file, unit.text, options.force))
      yield* Effect.forEach(changed, (unit) => AtomicFile.writeString(unit.file, unit.text, 0o644))
      yield* Output.lines([
        changed.length === 0
          ? `${files.map((unit) => unit.file).join(" and ")}: up to date`
          : `wrote ${changed.map((unit) => unit.file).join(" and ")}`,
        `it runs: ${SystemdUnits.renewCommand(units)}`,
        "next: systemctl daemon-reload && systemctl enable --now acme.timer"
      ])
    }).pipe(Output.withVerbosity(options.verbose))
).pipe(
  Command.withDescription(Common.help({
    summary:
      "Write a hardened systemd service and timer that run acme renew twice a day with this configuration (or print a cron line).",
    details: [
      "The service runs the installed acme (not a source checkout) as root with a read-only file system except the storage folder and the http-01 webroots (ProtectSystem=strict, ReadWritePaths=), a private /tmp and no new privileges; the timer adds a random delay of up to 12 hours. Refuses to overwrite a unit with other content unless --force is given (exit code 2)."
    ],
    examples: [
      ["acme install --config /etc/acme/acme.yaml", "write /etc/systemd/system/acme.service and acme.timer"],
      ["acme install --dir /tmp/units", "write them elsewhere, to compare with the installed ones"],
      ["acme install --cron", "print a crontab line instead (for crontab -e)"]
    ]
  }))
)
