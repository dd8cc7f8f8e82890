/**
 * `acme demo`: the whole life of two certificates against a local test CA, on this machine only.
 *
 * @since 0.1.0
 */
import { Renewal, Status } from "@acme/sdk"
import type * as Pebble from "@acme/testing/Pebble"
import { Command, Options } from "@effect/cli"
import { FileSystem, Path } from "@effect/platform"
import { DateTime, Effect, Option } from "effect"
import { CertificatesFailed } from "../CliError.js"
import * as Common from "../Common.js"
import * as ConfigFile from "../ConfigFile.js"
import * as Layers from "../Layers.js"
import * as Output from "../Output.js"

const keep = Options.boolean("keep").pipe(
  Options.withDescription("Keep the demo's folder (configuration, certificates, keys) instead of removing it at the end.")
)

/**
 * Pebble's harness (`@acme/testing`) is imported only when the demo runs: the bundle
 * (apps/cli/build.mjs, code splitting) puts it in chunks of their own that `acme renew` and the
 * other commands never load.
 */
const loadPebble = Effect.promise(() => import("@acme/testing/Pebble"))

const configText = (pebble: Pebble.Service): string =>
  `# written by \`acme demo\`: Pebble, a local test CA, and two certificates
ca:
  directory: ${pebble.directoryUrl}
  # Pebble's HTTPS certificate is signed by a CA of its own: trust it (a path relative to this file)
  trust: [./pebble-ca.pem]
account:
  email: demo@example.com
storage:
  path: ./storage
certificates:
  # http-01: Pebble fetches http://<name>:${pebble.httpPort}/.well-known/acme-challenge/<token>;
  # acme answers with a server of its own on that port
  - name: demo-web
    domains: [demo.example.test, www.demo.example.test]
    challenge: { type: http-01, port: ${pebble.httpPort}, address: 127.0.0.1 }
  # dns-01: acme sets a TXT record through pebble-challtestsrv's API, Pebble looks it up
  - name: demo-wildcard
    domains: ["*.demo.example.test"]
    key: ec-p384
    challenge: { type: dns-01, provider: challtestsrv, url: "${pebble.challtestsrvUrl}" }
`

/**
 * @since 0.1.0
 * @category commands
 */
export const demo = Command.make(
  "demo",
  { keep, verbose: Common.verbose },
  (options) =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const say = (...content: ReadonlyArray<string>) => Output.lines(content)
      const step = (n: number, title: string) => say("", `${n}. ${title}`)

      yield* say(
        "acme demo: two certificates from a local test CA, on this machine only (nothing leaves it).",
        "Progress goes to stderr; what you read here is what the commands print."
      )
      yield* step(1, "Start Pebble, Let's Encrypt's test CA, with pebble-challtestsrv as its DNS server")
      const { make: startPebble } = yield* loadPebble
      const pebble = yield* startPebble({ challengeServers: "external" }).pipe(Output.withStatus("starting Pebble…"))
      yield* say(
        `   directory  ${pebble.directoryUrl}`,
        `   it validates http-01 on 127.0.0.1:${pebble.httpPort} and resolves every name to 127.0.0.1`
      )

      const folder = yield* fs.makeTempDirectory({ prefix: "acme-demo-" })
      yield* Effect.addFinalizer(() =>
        options.keep
          ? say("", `The demo's folder stays: ${folder} (remove it with: rm -r ${folder})`)
          : fs.remove(folder, { recursive: true }).pipe(
            Effect.zipRight(say("", `Removed ${folder} (run \`acme demo --keep\` to keep it).`)),
            Effect.catchAll((error) => Output.errorLine(`warning: could not remove ${folder}: ${error.message}`))
          )
      )
      const file = path.join(folder, "acme.yaml")
      yield* fs.writeFileString(path.join(folder, "pebble-ca.pem"), pebble.caBundle)
      yield* fs.writeFileString(file, configText(pebble))
      yield* step(2, `Write a configuration: ${file}`)
      yield* say(...configText(pebble).trimEnd().split("\n").map((line) => `   ${line}`))

      const loaded = yield* ConfigFile.load(Option.some(file))
      const renew = Renewal.renew().pipe(Effect.provide(Layers.pipeline(loaded)))

      yield* step(3, "acme renew: neither certificate exists yet, so both are issued")
      const first = yield* renew
      yield* say(...Output.reportLines(first, yield* DateTime.now).map((line) => `   ${line}`))

      yield* step(4, "acme status: what is stored, and when the next renewal is due")
      const status = yield* Status.status.pipe(Effect.provide(Layers.protocol(loaded)))
      yield* say(...Output.statusLines(status).map((line) => `   ${line}`))

      yield* step(5, "acme renew again: nothing is due, so nothing changes (same serials, no order)")
      const second = yield* renew
      yield* say(...Output.reportLines(second, yield* DateTime.now).map((line) => `   ${line}`))

      yield* step(6, "The files")
      for (const certificate of first.certificates) {
        if (certificate.paths === undefined) continue
        yield* say(
          `   ${certificate.name}:`,
          `     ${certificate.paths.cert}`,
          `     ${certificate.paths.chain}`,
          `     ${certificate.paths.fullchain}   (certificate + chain: what a web server wants)`,
          `     ${certificate.paths.privkey}   (mode 0600)`
        )
      }
      yield* say(
        "",
        "With your own configuration (`acme init` writes a commented one), the same commands run from cron:",
        "   acme renew --config /etc/acme/acme.yaml"
      )
      const failed = first.certificates.filter((c) => c.action === "failed").map((c) => c.name)
      if (failed.length > 0) {
        return yield* new CertificatesFailed({ failed, total: first.certificates.length })
      }
    }).pipe(Effect.scoped, Output.withVerbosity(options.verbose))
).pipe(
  Command.withDescription(Common.help({
    summary:
      "See the whole thing work in a few seconds: start a local test CA (Pebble), issue two certificates (one by http-01, one by dns-01), show `acme status`, renew again (a no-op), show the files, clean up.",
    details: [
      "Needs pebble and pebble-challtestsrv (Debian: apt-get install -y pebble; scripts/setup.sh installs them). Uses only 127.0.0.1 and a temporary folder."
    ],
    examples: [
      ["acme demo", "run it"],
      ["acme demo --keep", "run it and keep the folder with the configuration, certificates and keys"]
    ]
  }))
)
