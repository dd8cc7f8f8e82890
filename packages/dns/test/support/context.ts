/** A plugin MakeContext for tests, with an environment given as a record. */
import { Planner, Plugin, Reporter } from "@acme/sdk"
import { NodeFileSystem, NodeHttpClient, NodePath } from "@effect/platform-node"
import { Effect, Layer } from "effect"

export const makeContext = (environment: Record<string, string>, asked: Array<string> = []): Plugin.MakeContext => ({
  configDirectory: "/etc/acme",
  deterministicPlanner: Planner.make(),
  deterministicReporter: { summarize: (state) => Effect.succeed(Reporter.fromState(state)) },
  env: (name) => {
    asked.push(name)
    const value = environment[name]
    return value === undefined
      ? Effect.fail(new Plugin.PluginError({ plugin: "env", description: `environment variable ${name} is not set` }))
      : Effect.succeed(value)
  }
})

/** what a plugin's `make` may use (HttpClient, FileSystem, Path), on Node */
export const platform = Layer.mergeAll(NodeHttpClient.layerUndici, NodeFileSystem.layer, NodePath.layer)
