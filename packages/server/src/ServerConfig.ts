/**
 * The `server` section of the configuration file (what `acme serve` reads besides the rest):
 *
 * ```yaml
 * server:
 *   listen: 127.0.0.1:8555   # host:port (IPv6 as [::1]:8555)
 *   interval: 12 hours       # renew what is due this often (with ±20 % jitter), and once at start
 *   publicStatus: false      # the status page at / without a key
 *   metricsAuth: false       # /metrics, /healthz and /readyz need a read key
 * ```
 *
 * This module holds only the schema, so that reading a configuration file loads nothing else of
 * the server.
 *
 * @since 0.1.0
 */
import * as RenewalConfig from "@acme/sdk/RenewalConfig"
import * as Duration from "effect/Duration"
import * as Schema from "effect/Schema"

/**
 * The default listen address: loopback only.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultListen = "127.0.0.1:8555"

/**
 * A listen address, `host:port` or `[v6]:port`, split.
 *
 * @since 0.1.0
 * @category models
 */
export interface Listen {
  readonly host: string
  readonly port: number
}

/**
 * Parses `host:port` (`[::1]:8555` for IPv6; port 0 asks for a free one).
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseListen = (text: string): Listen | undefined => {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text.trim())
  const port = Number(match?.[3])
  const host = match?.[1] ?? match?.[2]
  return host !== undefined && Number.isInteger(port) && port <= 65535 ? { host, port } : undefined
}

/**
 * @since 0.1.0
 * @category schemas
 */
export const ListenAddress = Schema.String.pipe(
  Schema.filter((text) =>
    parseListen(text) !== undefined ||
    `"${text}" is not a listen address: write host:port, e.g. 127.0.0.1:8555, 0.0.0.0:8555 or [::1]:8555`
  )
)

/**
 * @since 0.1.0
 * @category schemas
 */
export const ServerConfig = Schema.Struct({
  listen: Schema.optionalWith(ListenAddress, { default: () => defaultListen }),
  interval: Schema.optionalWith(
    RenewalConfig.DurationText.pipe(
      Schema.filter((duration) =>
        Duration.greaterThanOrEqualTo(duration, Duration.minutes(1)) ||
        "the interval must be at least 1 minute (renewals are planned days ahead)"
      )
    ),
    { default: () => Duration.hours(12) }
  ),
  publicStatus: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  metricsAuth: Schema.optionalWith(Schema.Boolean, { default: () => false })
})

/**
 * @since 0.1.0
 * @category models
 */
export type ServerConfig = typeof ServerConfig.Type

/**
 * The settings when the file has no `server` section.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaults: ServerConfig = Schema.decodeSync(ServerConfig)({})
