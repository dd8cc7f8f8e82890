/**
 * Every DNS provider of this package as a `Plugin` (kind `"dns"`), for the CLI's registry:
 * `rfc2136`, `cloudflare`, `route53`, `acme-dns`, `challtestsrv`.
 *
 * @since 0.1.0
 */
import * as Plugin from "@acme/sdk/Plugin"
import * as AcmeDns from "./AcmeDns.js"
import * as Challtestsrv from "./Challtestsrv.js"
import * as Cloudflare from "./Cloudflare.js"
import * as Rfc2136 from "./Rfc2136.js"
import * as Route53 from "./Route53.js"

/**
 * @since 0.1.0
 * @category plugins
 */
export const plugins: ReadonlyArray<Plugin.Configurable<"dns">> = [
  Plugin.configurable(Rfc2136.plugin),
  Plugin.configurable(Cloudflare.plugin),
  Plugin.configurable(Route53.plugin),
  Plugin.configurable(AcmeDns.plugin),
  Plugin.configurable(Challtestsrv.plugin)
]
