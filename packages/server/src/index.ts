/**
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Api from "./Api.js"
/** @since 0.1.0 */
export * as ApiKeys from "./ApiKeys.js"
/** @since 0.1.0 */
export * as Auth from "./Auth.js"
/** @since 0.1.0 */
export * as AuthThrottle from "./AuthThrottle.js"
/** @since 0.1.0 */
export * as Environment from "./Environment.js"
/** @since 0.1.0 */
export * as Handlers from "./Handlers.js"
/** @since 0.1.0 */
export * as Metrics from "./Metrics.js"
/** @since 0.1.0 */
export * as Problem from "./Problem.js"
/** @since 0.1.0 */
export * as Prometheus from "./Prometheus.js"
/** @since 0.1.0 */
export * as Scheduler from "./Scheduler.js"
/** @since 0.1.0 */
export * as Server from "./Server.js"
/** @since 0.1.0 */
export * as ServerConfig from "./ServerConfig.js"
/** @since 0.1.0 */
export * as Snapshot from "./Snapshot.js"
/** @since 0.1.0 */
export * as StatusPage from "./StatusPage.js"
/** @since 0.1.0 */
export * as Tasks from "./Tasks.js"
/** @since 0.1.0 */
export * as Tracing from "./Tracing.js"
