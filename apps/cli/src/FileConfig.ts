/**
 * What a configuration file holds: the SDK's `RenewalConfig`, plus what only the `acme` command
 * needs: the `server` section of `acme serve`.
 *
 * @since 0.1.0
 */
import { RenewalConfig } from "@acme/sdk"
import * as ServerConfig from "@acme/server/ServerConfig"
import { Schema } from "effect"

/**
 * @since 0.1.0
 * @category schemas
 */
export const FileConfig = RenewalConfig.RenewalConfig.pipe(
  Schema.extend(Schema.Struct({
    server: Schema.optionalWith(ServerConfig.ServerConfig, { default: () => ServerConfig.defaults })
  }))
)

/**
 * @since 0.1.0
 * @category models
 */
export type FileConfig = typeof FileConfig.Type
