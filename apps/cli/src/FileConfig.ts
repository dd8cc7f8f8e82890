/**
 * What a configuration file holds: the SDK's `RenewalConfig`, plus what only a program that builds
 * its Layers from a file needs. An embedding program says these with Layers instead, so the SDK's
 * schema leaves them out (or optional):
 *
 * - `ca.trust`: extra roots for the CA's TLS, PEM text or files relative to the file's folder; the
 *   command gives them to `NodeAcmeHttpClient.layer({ trust })`;
 * - `storage`: required here, since the command builds the `Storage` Layer from it.
 *
 * @since 0.1.0
 */
import { RenewalConfig } from "@acme/sdk"
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
  storage: RenewalConfig.StorageConfig
})

/**
 * @since 0.1.0
 * @category models
 */
export type FileConfig = typeof FileConfig.Type
