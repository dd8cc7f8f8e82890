/**
 * A throwaway PostgreSQL server (Debian package `postgresql`) as a scoped Layer, for tests of
 * storage on Postgres: `initdb` into a temporary folder, then `postgres` in the foreground on a free
 * loopback port with trust authentication for the superuser `postgres`. When the scope closes the
 * server is stopped (fast shutdown) and the folder removed. It is not the system service, and it
 * never touches one.
 *
 * PostgreSQL refuses to run as root: when the tests run as root, the server runs as an unprivileged
 * user (`user`, default `$ACME_TEST_POSTGRES_USER`, else `nobody`) through `setpriv`, in a folder
 * that user owns.
 *
 * The binaries are looked for in `binDir`, else `$POSTGRES_BIN_DIR`, else the newest
 * `/usr/lib/postgresql/<version>/bin`, else on `PATH`.
 *
 * ```ts
 * import { Postgres } from "@acme/testing"
 *
 * layer(Postgres.layer(), { excludeTestServices: true })("on Postgres", (it) => {
 *   it.effect("connects", () => Effect.gen(function*() {
 *     const postgres = yield* Postgres.Postgres
 *     const url = yield* postgres.createDatabase   // a new empty database: postgres://postgres@127.0.0.1:<port>/<name>
 *     expect(yield* postgres.psql("SELECT 1")).toBe("1")
 *   }))
 * })
 * ```
 *
 * @since 0.1.0
 */
import * as Command from "@effect/platform/Command"
import type * as CommandExecutor from "@effect/platform/CommandExecutor"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { findExecutable } from "./internal/binaries.js"
import * as Binaries from "./internal/postgresBinaries.js"
import * as Ports from "./internal/ports.js"
import * as Process from "./internal/process.js"
import * as Requirement from "./Requirement.js"

/**
 * What went wrong: `NotInstalled` (no PostgreSQL binaries, or no `setpriv` to leave root),
 * `StartFailed` (initdb or the server failed, or it did not answer in time; the message ends with
 * its last output), `Query` (`createDatabase` or `psql` failed).
 *
 * @since 0.1.0
 * @category errors
 */
export class PostgresError extends Data.TaggedError("PostgresError")<{
  readonly reason: "NotInstalled" | "StartFailed" | "Query"
  readonly message: string
}> {}

/**
 * @since 0.1.0
 * @category models
 */
export interface PostgresOptions {
  /** the folder of `initdb`, `postgres`, `pg_isready`, `createdb` and `psql` */
  readonly binDir?: string | undefined
  /** the user the server runs as when the tests run as root; default `$ACME_TEST_POSTGRES_USER`, else `nobody` */
  readonly user?: string | undefined
  /** default 30 seconds (initdb included) */
  readonly startTimeout?: Duration.DurationInput | undefined
  /** echo the server's output to stderr; default: `ACME_TEST_VERBOSE` is `1` or `true` */
  readonly verbose?: boolean | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`: the superuser on the default database */
  readonly url: string
  readonly host: string
  readonly port: number
  /** the database superuser (trust authentication on loopback): `postgres` */
  readonly superuser: string
  /** a new empty database for each call; its URL */
  readonly createDatabase: Effect.Effect<string, PostgresError>
  /** runs SQL with `psql` (unaligned, tuples only) and returns what it printed, trimmed */
  readonly psql: (sql: string, database?: string) => Effect.Effect<string, PostgresError>
  /** the data folder and the socket live in it; removed when the scope closes */
  readonly tempDirectory: string
  readonly pid: number
  /** the last lines (up to 200) the server printed */
  readonly recentOutput: Effect.Effect<ReadonlyArray<string>>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Postgres extends Context.Tag("@acme/testing/Postgres")<Postgres, Service>() {}

const host = "127.0.0.1"
const superuser = "postgres"

const startFailed = (message: string) => new PostgresError({ reason: "StartFailed", message })

const isTruthyEnv = (value: string | undefined): boolean => value === "1" || value?.toLowerCase() === "true"

/** the first of `Binaries.candidates` that holds `initdb` */
const findBinDir = (configured: string | undefined) =>
  Option.match(Binaries.find(configured), {
    onSome: Effect.succeed,
    onNone: () =>
      Effect.fail(
        new PostgresError({
          reason: "NotInstalled",
          message: `PostgreSQL is not installed (no initdb in ${
            Binaries.describe(configured)
          }); install it with: apt-get install -y postgresql (or set POSTGRES_BIN_DIR)`
        })
      )
  })

/** runs a command to its end: its exit code and its output (stdout then stderr) */
const runToEnd = (command: Command.Command) =>
  Effect.scoped(Effect.gen(function*() {
    const child = yield* Command.start(command)
    const text = (stream: Stream.Stream<Uint8Array, unknown>) =>
      stream.pipe(Stream.decodeText(), Stream.mkString, Effect.orElseSucceed(() => ""))
    const [stdout, stderr, exitCode] = yield* Effect.all([text(child.stdout), text(child.stderr), child.exitCode], {
      concurrency: "unbounded"
    })
    return { exitCode: Number(exitCode), stdout, stderr }
  }))

const lastLines = (text: string) => text.trim().split("\n").slice(-15).join("\n") || "(no output)"

/** `setpriv` arguments that run a command as `user` (uid and gid looked up with `id`) */
const dropRoot = (user: string) =>
  Effect.gen(function*() {
    const setpriv = yield* Option.match(findExecutable("setpriv"), {
      onSome: Effect.succeed,
      onNone: () =>
        new PostgresError({
          reason: "NotInstalled",
          message: "setpriv is not installed (PostgreSQL refuses to run as root, and setpriv runs it as another user); " +
            "install it with: apt-get install -y util-linux"
        })
    })
    const id = (flag: string) =>
      runToEnd(Command.make("id", flag, user)).pipe(
        Effect.flatMap(({ exitCode, stdout }) =>
          exitCode === 0 && /^\d+$/.test(stdout.trim())
            ? Effect.succeed(Number(stdout.trim()))
            : Effect.fail(startFailed(`there is no user ${user} to run PostgreSQL as (id ${flag} ${user} failed)`))
        ),
        Effect.mapError((error) => error instanceof PostgresError ? error : startFailed(`id failed: ${String(error)}`))
      )
    const uid = yield* id("-u")
    const gid = yield* id("-g")
    return { uid, gid, prefix: [setpriv, `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", "--"] }
  })

const makeWith = (
  options: PostgresOptions
): Effect.Effect<
  Service,
  PostgresError,
  Scope.Scope | FileSystem.FileSystem | Path.Path | CommandExecutor.CommandExecutor
> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const binDir = yield* findBinDir(options.binDir)
    const bin = (name: string) => path.join(binDir, name)
    const startTimeout = Duration.decode(options.startTimeout ?? "30 seconds")
    const verbose = options.verbose ?? isTruthyEnv(process.env["ACME_TEST_VERBOSE"])

    const asRoot = process.getuid?.() === 0
    const user = options.user ?? process.env["ACME_TEST_POSTGRES_USER"] ?? "nobody"
    const runAs = asRoot ? Option.some(yield* dropRoot(user)) : Option.none()
    const serverCommand = (...args: Array<string>) =>
      Option.match(runAs, {
        onNone: () => Command.make(args[0] ?? "", ...args.slice(1)),
        onSome: ({ prefix }) => Command.make(prefix[0] ?? "", ...prefix.slice(1), ...args)
      })

    const tempDirectory = yield* fs.makeTempDirectoryScoped({ prefix: "acme-testing-postgres-" }).pipe(
      Effect.mapError((error) => startFailed(`could not create a temporary directory: ${error.message}`))
    )
    if (Option.isSome(runAs)) {
      yield* fs.chown(tempDirectory, runAs.value.uid, runAs.value.gid).pipe(
        Effect.mapError((error) => startFailed(`could not give ${tempDirectory} to ${user}: ${error.message}`))
      )
    }
    const dataDirectory = path.join(tempDirectory, "data")

    const initdb = yield* runToEnd(
      serverCommand(
        bin("initdb"),
        "-D",
        dataDirectory,
        "-U",
        superuser,
        "--auth=trust",
        "--encoding=UTF8",
        "--no-locale",
        "--no-sync",
        "--no-instructions"
      ).pipe(Command.workingDirectory(tempDirectory))
    ).pipe(Effect.mapError((error) => startFailed(`could not run initdb: ${String(error)}`)))
    if (initdb.exitCode !== 0) {
      return yield* startFailed(
        `initdb exited with code ${initdb.exitCode}; its last output:\n${lastLines(initdb.stdout + initdb.stderr)}`
      )
    }

    const client = (program: string, ...args: Array<string>) =>
      Command.make(bin(program), "-h", host, ...args).pipe(Command.workingDirectory(tempDirectory))

    const startOnce = Effect.gen(function*() {
      const port = yield* Effect.scoped(Ports.tcpPort).pipe(Effect.mapError((error) => startFailed(error.message)))
      const running = yield* Process.start(
        "postgres",
        serverCommand(
          bin("postgres"),
          "-D",
          dataDirectory,
          "-p",
          String(port),
          "-c",
          `listen_addresses=${host}`,
          "-c",
          `unix_socket_directories=${tempDirectory}`,
          // a test database: speed over durability
          "-c",
          "fsync=off",
          "-c",
          "synchronous_commit=off",
          "-c",
          "full_page_writes=off",
          "-c",
          "max_connections=200",
          "-c",
          "shared_buffers=32MB"
        ).pipe(Command.workingDirectory(tempDirectory)),
        { verbose }
      ).pipe(Effect.mapError((error) => startFailed(error.message)))
      // fast shutdown (SIGINT) before the default SIGTERM, which would wait for clients to leave
      yield* Effect.addFinalizer(() =>
        Effect.try(() => process.kill(running.pid, "SIGINT")).pipe(
          Effect.zipRight(running.exited.pipe(Effect.timeout("10 seconds"))),
          Effect.ignore
        )
      )
      yield* Process.watchdog([running.pid], tempDirectory).pipe(Effect.mapError((error) => startFailed(error.message)))

      const ready = runToEnd(client("pg_isready", "-p", String(port), "-U", superuser, "-d", "postgres", "-t", "1")).pipe(
        Effect.filterOrFail(({ exitCode }) => exitCode === 0),
        Effect.tapError(() => Effect.sleep("50 millis")),
        Effect.eventually
      )
      const exitedEarly = Effect.flatMap(running.exited, (how) =>
        Effect.flatMap(running.tail, (tail) =>
          Effect.fail(startFailed(`postgres ${how} before it was ready; its last output:\n${Process.formatTail(tail)}`))))
      yield* ready.pipe(
        Effect.raceFirst(exitedEarly),
        Effect.timeout(startTimeout),
        Effect.catchTag("TimeoutException", () =>
          Effect.flatMap(running.tail, (tail) =>
            Effect.fail(
              startFailed(
                `postgres did not answer on ${host}:${port} within ${Duration.format(startTimeout)}; ` +
                  `its last output:\n${Process.formatTail(tail)}`
              )
            )))
      )
      return { port, running }
    })

    // a port picked free may be taken before postgres binds it: start again on another one
    const started = yield* Process.startRetrying(startOnce, {
      times: 2,
      while: (error) => error.reason === "StartFailed"
    })
    const port = String(started.port)
    const urlOf = (database: string) => `postgres://${superuser}@${host}:${port}/${database}`
    const executor = yield* Effect.context<CommandExecutor.CommandExecutor>()

    const query = (failure: string, command: Command.Command) =>
      runToEnd(command).pipe(
        Effect.mapError((error) => new PostgresError({ reason: "Query", message: `${failure}: ${String(error)}` })),
        Effect.flatMap(({ exitCode, stderr, stdout }) =>
          exitCode === 0
            ? Effect.succeed(stdout.trim())
            : Effect.fail(new PostgresError({ reason: "Query", message: `${failure}: ${lastLines(stderr)}` }))
        ),
        Effect.provide(executor)
      )

    const counter = yield* Ref.make(0)
    const createDatabase = Effect.gen(function*() {
      const name = `acme_test_${yield* Ref.getAndUpdate(counter, (n) => n + 1)}`
      yield* query(`could not create the database ${name}`, client("createdb", "-p", port, "-U", superuser, name))
      return urlOf(name)
    })

    return {
      url: urlOf("postgres"),
      host,
      port: started.port,
      superuser,
      createDatabase,
      psql: (sql, database = "postgres") =>
        query(
          "psql failed",
          client("psql", "-p", port, "-U", superuser, "-d", database, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql)
        ),
      tempDirectory,
      pid: started.running.pid,
      recentOutput: started.running.tail
    }
  })

/**
 * Starts the server; it is stopped and its folder removed when the scope closes. Runs on a live
 * clock (it waits on a real process) also under a TestClock.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: PostgresOptions = {}): Effect.Effect<Service, PostgresError, Scope.Scope> =>
  Process.onHost(makeWith(options))

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: PostgresOptions): Layer.Layer<Postgres, PostgresError> =>
  Layer.scoped(Postgres, make(options))

/**
 * Whether this machine can start the server (PostgreSQL's binaries, and `setpriv` when the tests
 * run as root), as a `Requirement` decision: a suite that needs Postgres skips on a developer's
 * machine without it and fails under CI.
 *
 * ```ts
 * const requirement = Postgres.requirement()
 * if (requirement._tag === "Fail") it("PostgreSQL is there", () => expect.fail(Requirement.message(requirement)))
 * describe.skipIf(requirement._tag !== "Run")(`on Postgres${Requirement.note(requirement)}`, () => { ... })
 * ```
 *
 * @since 0.1.0
 * @category requirements
 */
export const requirement = (options: Pick<PostgresOptions, "binDir"> = {}): Requirement.Decision =>
  Requirement.decide({ what: "PostgreSQL (scripts/setup.sh installs it)", missing: Binaries.missing(options.binDir) })
