/**
 * The environment the SDK's programs run in, built from a loaded configuration file.
 *
 * @since 0.1.0
 */
import {
  AcmeProtocol,
  ChallengeSolver,
  ChalltestsrvDns,
  CrashPoint,
  type DeployHook,
  Planner,
  Renewal,
  RenewalConfig,
  Reporter,
  Storage
} from "@acme/sdk"
import { NodeAcmeHttpClient, NodeDeployHook, NodeHttp01Responder, NodeTlsAlpn01Responder } from "@acme/platform-node"
import { NodeContext } from "@effect/platform-node"
import { Config, Effect, Layer, Option } from "effect"
import type * as ConfigFile from "./ConfigFile.js"
import { progressLayer } from "./Output.js"
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
 * What every command that talks to the CA needs: the protocol client (trusting `ca.trust`), the
 * storage folder, the settings, the planner and the reporter.
 *
 * @since 0.1.0
 * @category layers
 */
export const protocol = (
  loaded: ConfigFile.Loaded
): Layer.Layer<
  AcmeProtocol.AcmeProtocol | Storage.Storage | Planner.Planner | Reporter.Reporter | Renewal.RenewalSettings
> => {
  const config = loaded.settings.config
  const http = NodeAcmeHttpClient.layer({ trust: loaded.trust })
  return Layer.mergeAll(
    AcmeProtocol.layer({
      directoryUrl: RenewalConfig.directoryUrl(config.ca),
      userAgent: `acme-effect/${version} (cli)`
    }).pipe(Layer.provide(http)),
    Storage.layerFileSystem(loaded.storagePath),
    Planner.layer({ daysBefore: config.renewal.daysBefore }),
    Reporter.layer,
    Layer.succeed(Renewal.RenewalSettings, loaded.settings),
    crashPoint
  ).pipe(Layer.provide(NodeContext.layer))
}

/**
 * Everything the renewal pipeline needs: {@link protocol}, plus the challenge responders (our own
 * http-01 and tls-alpn-01 servers or the webroot, dns-01 through challtestsrv), deploy hooks, and the
 * progress display.
 *
 * @since 0.1.0
 * @category layers
 */
export const pipeline = (
  loaded: ConfigFile.Loaded
): Layer.Layer<Renewal.Requirements | DeployHook.DeployHook> => {
  const responders = Layer.mergeAll(
    NodeHttp01Responder.layer,
    NodeTlsAlpn01Responder.layer,
    ChalltestsrvDns.layer.pipe(Layer.provide(NodeAcmeHttpClient.layer({ trust: loaded.trust })))
  ).pipe(Layer.provide(NodeContext.layer))
  return Layer.mergeAll(
    protocol(loaded),
    ChallengeSolver.layer.pipe(Layer.provide(responders)),
    NodeDeployHook.layer,
    progressLayer
  )
}
