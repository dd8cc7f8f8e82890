/**
 * What a configuration file holds: the SDK's `RenewalConfig`, plus what only a program that builds
 * its Layers from a file needs. An embedding program says these with Layers instead, so the SDK's
 * schema leaves them out (or optional):
 *
 * - `ca.trust`: extra roots for the CA's TLS, PEM text or files relative to the file's folder; the
 *   command gives them to `NodeAcmeHttpClient.layer({ trust })`;
 * - `storage`: required here, since the command builds the `Storage` Layer from it;
 * - `server`: the settings of `acme serve` (listen address, interval, status page, metrics).
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
export const FileConfig = Schema.Struct({
  ...RenewalConfig.RenewalConfig.fields,
  ca: Schema.Struct({
    ...RenewalConfig.CaConfig.fields,
    /** extra PEM roots to trust for the CA's own TLS: file paths, or PEM text */
    trust: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] })
  }),
  storage: RenewalConfig.StorageConfig,
  server: Schema.optionalWith(ServerConfig.ServerConfig, { default: () => ServerConfig.defaults })
})

/**
 * @since 0.1.0
 * @category models
 */
export type FileConfig = typeof FileConfig.Type
