/**
 * The version `acme --version` prints: package.json's, read when the bundle is built (esbuild inlines
 * the field), so that `changeset version` is the only place a release changes it.
 *
 * @since 0.1.0
 */
import packageJson from "../package.json" with { type: "json" }

/**
 * @since 0.1.0
 * @category constants
 */
export const version: string = packageJson.version
