/**
 * The environment the SDK's programs run in, built from a loaded configuration file.
 *
 * @since 0.1.0
 */
import {
  AcmeProtocol,
  ChallengeSolver,
  CrashPoint,
  type DeployHook,
  type Doctor,
  Planner,
  type Plugin,
  type Renewal,
  RenewalConfig,
  RenewalSettings,
  Reporter,
  Storage
} from "@acme/sdk"
import * as Dns01 from "@acme/dns/Dns01"
import * as DnsDoctor from "@acme/dns/DnsDoctor"
import * as DnsResolver from "@acme/dns/DnsResolver"
import {
  NodeAcmeHttpClient,
  NodeDeployHook,
  NodeHost,
  NodeHttp01Responder,
  NodeTlsAlpn01Responder
} from "@acme/platform-node"
import type { HttpClient } from "@effect/platform"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Config, Context, Effect, Layer, Option } from "effect"
import type * as ConfigFile from "./ConfigFile.js"
import { progressLayer } from "./Output.js"
import * as Registry from "./Registry.js"
import { version } from "./version.js"

/**
 * The variable that makes the process kill itself (SIGKILL) when the pipeline reaches the named
 * crash point (`before:order`, `after:store`, `write:privkey.pem:before-rename`, ...). A test hook
 * for the crash-safety tests; never set it in production.
 *
 * @since 0.1.0
 * @category test hooks
 */
export const crashVariable = "ACME_TEST_CRASH_AT"

/**
 * `CrashPoint` that SIGKILLs the process at the point `$ACME_TEST_CRASH_AT` names; nothing at all
 * when the variable is not set.
 *
 * @since 0.1.0
 * @category test hooks
 */
export const crashPoint: Layer.Layer<never> = Layer.unwrapEffect(
  Config.option(Config.string(crashVariable)).pipe(
    Effect.orElseSucceed(() => Option.none<string>()),
    Effect.map(Option.filter((target) => target.length > 0)),
    Effect.map(Option.match({
      onNone: () => Layer.empty,
      onSome: (target) =>
        Layer.succeed(CrashPoint.CrashPoint, {
          reach: (point: string) =>
            point === target
              ? Effect.sync(() => {
                process.kill(process.pid, "SIGKILL")
              })
              : Effect.void
        }).pipe(Layer.tap(() => Effect.logDebug(`test hook: ${crashVariable}=${target}: the process dies there`)))
    }))
  )
)

/**
 * The HTTP client (trusting `ca.trust`) of a loaded configuration. {@link protocol} and
 * {@link pipeline} build it once and provide it to everything in them that talks HTTP (the protocol
 * client, the providers, the dns-01 responder), so that one command uses one client.
 *
 * @since 0.1.0
 * @category layers
 */
export const httpClient = (loaded: ConfigFile.Loaded): Layer.Layer<HttpClient.HttpClient> =>
  NodeAcmeHttpClient.layer({ trust: loaded.trust })

/**
 * @since 0.1.0
 * @category models
 */
export interface ProviderOptions {
  /**
   * build the configured planner and reporter (an LLM's, a plugin's); otherwise the deterministic
   * ones: `acme status`, `revoke` and `account` never ask a model. Default false.
   */
  readonly advisory?: boolean | undefined
}

/**
 * The storage, planner and reporter the configuration names, built (a plugin's `make` runs here).
 *
 * @since 0.1.0
 * @category layers
 */
export const providers = (
  loaded: ConfigFile.Loaded,
  options: ProviderOptions = {}
): Layer.Layer<Storage.Storage | Planner.Planner | Reporter.Reporter, Plugin.PluginError, HttpClient.HttpClient> =>
  Layer.scopedContext(
    Effect.gen(function*() {
      const context = makeContext(loaded)
      const storage = yield* loaded.providers.storage.build(context)
      const advisory = options.advisory ?? false
      const planner = advisory ? yield* loaded.providers.planner.build(context) : context.deterministicPlanner
      const reporter = advisory ? yield* loaded.providers.reporter.build(context) : context.deterministicReporter
      return Context.make(Storage.Storage, storage).pipe(
        Context.add(Planner.Planner, planner),
        Context.add(Reporter.Reporter, reporter)
      )
    })
  ).pipe(Layer.provide(NodeContext.layer))

const makeContext = (loaded: ConfigFile.Loaded): Plugin.MakeContext =>
  Registry.makeContext({ configDirectory: loaded.directory })

/** {@link protocol}, still needing its HTTP client. */
const protocolWithoutHttp = (
  loaded: ConfigFile.Loaded,
  options: ProviderOptions
): Layer.Layer<
  AcmeProtocol.AcmeProtocol | Storage.Storage | Planner.Planner | Reporter.Reporter | RenewalSettings.RenewalSettings,
  Plugin.PluginError,
  HttpClient.HttpClient
> =>
  Layer.mergeAll(
    AcmeProtocol.layer({
      directoryUrl: RenewalConfig.directoryUrl(loaded.settings.config.ca),
      requestTimeout: loaded.settings.config.ca.requestTimeout,
      maxBodyBytes: loaded.settings.config.ca.maxBodyBytes,
      userAgent: `acme-effect/${version} (cli)`
    }),
    providers(loaded, options),
    RenewalSettings.layer(loaded.settings),
    crashPoint,
    // the host and process that hold leases; a gone process's leases are taken over at once
    NodeHost.layer
  ).pipe(Layer.provide(NodeContext.layer))

/**
 * What every command that talks to the CA needs: the protocol client (trusting `ca.trust`), the
 * storage, the settings, the planner and the reporter.
 *
 * @since 0.1.0
 * @category layers
 */
export const protocol = (
  loaded: ConfigFile.Loaded,
  options: ProviderOptions = {}
): Layer.Layer<
  AcmeProtocol.AcmeProtocol | Storage.Storage | Planner.Planner | Reporter.Reporter | RenewalSettings.RenewalSettings,
  Plugin.PluginError
> => protocolWithoutHttp(loaded, options).pipe(Layer.provide(httpClient(loaded)))

/**
 * Answers dns-01 and dns-account-01 through the DNS provider each certificate names (`@acme/dns`'s responder: CNAME
 * delegation, the wait until the zone's servers answer with the record, cleanup).
 *
 * @since 0.1.0
 * @category layers
 */
export const dns01 = (
  loaded: ConfigFile.Loaded
): Layer.Layer<ChallengeSolver.Dns01Responder, Plugin.PluginError, HttpClient.HttpClient> =>
  Layer.unwrapScoped(
    Effect.gen(function*() {
      const context = makeContext(loaded)
      const setups = new Map<string, Dns01.Setup>()
      for (const [name, setup] of loaded.providers.dns) {
        setups.set(name, { provider: yield* setup.build(context), propagation: setup.propagation })
      }
      return Dns01.layer((task) =>
        Option.match(Option.fromNullable(setups.get(task.certificate)), {
          onNone: () =>
            Effect.fail(
              new ChallengeSolver.ChallengeError({
                reason: "Unsupported",
                challengeType: task.type,
                identifier: task.identifier.value,
                description: `no DNS provider is configured for the certificate ${task.certificate}`
              })
            ),
          onSome: Effect.succeed
        })
      )
    })
  ).pipe(
    Layer.provide(Layer.mergeAll(NodeContext.layer, DnsResolver.layer()))
  )

/**
 * Everything the renewal pipeline needs: {@link protocol}, plus the challenge responders (our own
 * http-01 and tls-alpn-01 servers or the webroot, dns-01 through each certificate's DNS provider),
 * deploy hooks, and the progress display.
 *
 * @since 0.1.0
 * @category layers
 */
export const pipeline = (
  loaded: ConfigFile.Loaded
): Layer.Layer<Renewal.Requirements | DeployHook.DeployHook, Plugin.PluginError> => {
  const responders = Layer.mergeAll(
    NodeHttp01Responder.layer,
    NodeTlsAlpn01Responder.layer,
    dns01(loaded)
  ).pipe(Layer.provide(NodeContext.layer))
  return Layer.mergeAll(
    protocolWithoutHttp(loaded, { advisory: true }),
    ChallengeSolver.layer.pipe(Layer.provide(responders)),
    NodeDeployHook.layer,
    progressLayer
  ).pipe(Layer.provide(httpClient(loaded)))
}

/**
 * What `acme doctor` needs: {@link protocol} with its HTTP client, the http-01 responder, the DNS
 * lookups (through `resolvers`, else the system's) and the dns-01 probe over each certificate's
 * DNS provider.
 *
 * @since 0.1.0
 * @category layers
 */
export const doctor = (
  loaded: ConfigFile.Loaded,
  options: { readonly resolvers: ReadonlyArray<string> }
): Layer.Layer<Doctor.Requirements | ChallengeSolver.Http01Responder | Doctor.Dns01Probe, Plugin.PluginError> => {
  const servers = options.resolvers.length > 0 ? options.resolvers : undefined
  const probe = Layer.unwrapScoped(
    Effect.gen(function*() {
      const context = makeContext(loaded)
      const setups = new Map<string, Dns01.Setup>()
      for (const [name, setup] of loaded.providers.dns) {
        setups.set(name, { provider: yield* setup.build(context), propagation: setup.propagation })
      }
      return DnsDoctor.layerDns01Probe((certificate) => Effect.succeed(setups.get(certificate.name)))
    })
  ).pipe(Layer.provide(DnsResolver.layer({ servers })))
  return Layer.mergeAll(
    protocolWithoutHttp(loaded, {}),
    NodeHttp01Responder.layer,
    probe,
    DnsDoctor.layerLookups({ servers })
  ).pipe(Layer.provideMerge(httpClient(loaded)), Layer.provideMerge(NodeContext.layer))
}
