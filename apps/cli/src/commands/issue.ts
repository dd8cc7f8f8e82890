/**
 * `acme issue`: one certificate from the command line, without writing a configuration first. The
 * certificate is added to the configuration file (made when missing), and issued by the renewal
 * pipeline of `acme renew`, so that the next `acme renew` keeps it valid.
 *
 * @since 0.1.0
 */
import { Renewal } from "@acme/sdk"
import { Command, Options } from "@effect/cli"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { Effect, Option } from "effect"
import * as AtomicFile from "../AtomicFile.js"
import { UsageError } from "../CliError.js"
import * as Common from "../Common.js"
import * as ConfigFile from "../ConfigFile.js"
import * as IssueConfig from "../IssueConfig.js"
import * as Layers from "../Layers.js"
import * as Output from "../Output.js"

const domain = Options.text("domain").pipe(
  Options.withAlias("d"),
  Options.withPseudoName("NAME"),
  Options.withDescription("A name the certificate is for (a wildcard *.example.org needs --dns); repeat for several."),
  Options.atLeast(1)
)

const email = Options.text("email").pipe(
  Options.withPseudoName("ADDRESS"),
  Options.withDescription("The account's contact address: the CA writes to it about expiring or revoked certificates.")
)

const webroot = Options.directory("webroot", { exists: "yes" }).pipe(
  Options.withPseudoName("DIR"),
  Options.withDescription("http-01 through a running web server: the folder it serves http://NAME/ from."),
  Options.optional
)

const httpPort = Options.integer("http-port").pipe(
  Options.withPseudoName("PORT"),
  Options.withDescription("http-01 with acme's own server on this port (80, or where port 80 is forwarded to)."),
  Options.optional
)

const dns = Options.text("dns").pipe(
  Options.withPseudoName("PROVIDER"),
  Options.withDescription(
    "dns-01 through this DNS provider, set up (server, credentials) as a certificate in the file that uses it already."
  ),
  Options.optional
)

const server = Options.text("server").pipe(
  Options.withPseudoName("PRESET|URL"),
  Options.withDescription("The CA: a preset (letsencrypt, letsencrypt-staging, ...) or a directory URL. Default: the file's, else letsencrypt."),
  Options.optional
)

/**
 * @since 0.1.0
 * @category commands
 */
export const issue = Command.make(
  "issue",
  { ...Common.common, domain, email, webroot, httpPort, dns, server },
  (options) =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const challenges: ReadonlyArray<Readonly<Record<string, unknown>>> = [
        ...Option.toArray(Option.map(options.webroot, (folder) => ({ type: "http-01", webroot: path.resolve(folder) }))),
        ...Option.toArray(Option.map(options.httpPort, (port) => ({ type: "http-01", port }))),
        ...Option.toArray(Option.map(options.dns, (provider) => ({ type: "dns-01", provider })))
      ]
      const challenge = challenges.length === 1 ? challenges[0] : undefined
      if (challenge === undefined) {
        return yield* new UsageError({
          message: "acme issue needs one way to prove control of the names",
          hint: "give exactly one of --webroot DIR, --http-port PORT or --dns PROVIDER"
        })
      }
      const location = yield* ConfigFile.locate(options.config).pipe(
        Effect.catchTag("ConfigFileError", (error) =>
          error.reason === "NotFound"
            ? Effect.succeed({ file: ConfigFile.defaultNames[0] ?? "acme.yaml", path: path.resolve("acme.yaml") })
            : Effect.fail(error))
      )
      const existing = yield* fs.readFileString(location.path).pipe(Effect.option)
      const edited = yield* IssueConfig.edit(location.file, Option.getOrUndefined(existing), {
        domains: options.domain,
        email: options.email,
        server: Option.getOrUndefined(options.server),
        challenge
      })
      // checked as `acme renew` will read it, before the file is written
      const data = yield* ConfigFile.parse(location.file, edited.text)
      const loaded = yield* ConfigFile.resolve(location, yield* ConfigFile.decode(location.file, data))
      if (edited.added) {
        const mode = Option.isSome(existing) ? (yield* fs.stat(location.path)).mode & 0o777 : 0o600
        yield* fs.makeDirectory(path.dirname(location.path), { recursive: true })
        yield* AtomicFile.writeString(location.path, edited.text, mode)
        yield* Output.errorLine(`added certificate ${edited.name} to ${location.file}: acme renew keeps it valid`)
        if (edited.setupFrom !== undefined) {
          yield* Output.errorLine(`its dns-01 setup (the provider's options) is certificate ${edited.setupFrom}'s`)
        }
      }
      const report = yield* Renewal.renew({ force: false, dryRun: false, only: [edited.name] }).pipe(
        Effect.provide(Layers.pipeline(loaded))
      )
      yield* Common.finish(report, options.json)
    }).pipe(Output.withVerbosity(options.verbose))
).pipe(
  Command.withDescription(Common.help({
    summary:
      "Get a certificate now, from the command line: it is added to the configuration file (made when missing), so that acme renew keeps it valid.",
    details: [
      "The certificate is named after its first domain and stored as acme renew stores every certificate. A file that exists keeps its other content; a different CA, e-mail address, or certificate of that name with other domains is refused (exit code 2). Issuing the same domains again renews them only when due."
    ],
    examples: [
      ["acme issue -d example.org -d www.example.org --email ops@example.org --webroot /var/www/html", "through the web server"],
      ["acme issue -d example.org --email ops@example.org --http-port 80 --server letsencrypt-staging", "acme's own server, Let's Encrypt's staging CA"],
      ["acme issue -d '*.example.org' --email ops@example.org --dns rfc2136 --config /etc/acme/acme.yaml", "a wildcard through DNS"]
    ]
  }))
)
