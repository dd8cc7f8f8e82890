/**
 * `acme doctor`: checks, before anything is ordered, what would make an order fail, and says for
 * each problem how to fix it:
 *
 * - `ca`, `clock`, `eab`: the CA's directory answers (one GET); this machine's clock (Effect's
 *   `Clock`) is within a minute of the CA's `Date` header; External Account Binding credentials are
 *   there when the directory (`meta.externalAccountRequired`) or the preset requires them;
 * - `storage`: a file storage's folder can be written, and its private keys are 0600 in 0700
 *   folders (another storage is read);
 * - `account`: the stored account is valid at the CA (POST-as-GET), or none is stored yet;
 * - per name: `dns` (A/AAAA), `caa` (RFC 8659: the closest ancestor with CAA records decides;
 *   `issuewild` for wildcards; the CA's identities from the directory's `meta.caaIdentities`, else
 *   its preset); per certificate its challenge: `http-01` (a test token is served by the http-01
 *   responder and fetched back from every address of each name), `dns-01` (the `Dns01Probe`).
 *
 * Each check is an Effect that never fails: its outcome is a {@link Finding} (`ok`, `fail` with a
 * `fix`, `warn`, `skip`). The DNS lookups go through the {@link Lookups} service and dns-01 through
 * the {@link Dns01Probe} (`@acme/dns` has both), so tests point them at BIND or challtestsrv.
 *
 * ```ts
 * const report = yield* Doctor.run({ storagePath: "/var/lib/acme" })
 * if (!report.ok) for (const c of report.checks) if (c.status === "fail") console.log(c.message, c.fix)
 * ```
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import * as internal from "./internal/doctor.js"
import type { Options, Report } from "./internal/doctor/service.js"

export {
  /** @since 0.1.0 */
  type CaaRecord,
  /** @since 0.1.0 */
  CheckName,
  /** @since 0.1.0 */
  Dns01Probe,
  /** @since 0.1.0 */
  type Dns01ProbeInput,
  /** @since 0.1.0 */
  type Dns01ProbeService,
  /** @since 0.1.0 */
  Finding,
  /** @since 0.1.0 */
  LookupError,
  /** @since 0.1.0 */
  Lookups,
  /** @since 0.1.0 */
  type LookupsService,
  /** @since 0.1.0 */
  type Options,
  /** @since 0.1.0 */
  Report,
  /** @since 0.1.0 */
  Status
} from "./internal/doctor/service.js"

export {
  /** @since 0.1.0 */
  type CaIdentity,
  /**
   * The CAA decision for one name, given the records relevant to it (pure; `run` finds them).
   *
   * @since 0.1.0
   */
  evaluate as evaluateCaa,
  /** @since 0.1.0 */
  type IssueValue,
  /** @since 0.1.0 */
  parseIssueValue
} from "./internal/doctor/caa.js"

export {
  /**
   * Findings of one check, for providers of a `Dns01Probe`.
   *
   * @since 0.1.0
   */
  fail,
  /** @since 0.1.0 */
  ok,
  /** @since 0.1.0 */
  oneLine,
  /** @since 0.1.0 */
  skip,
  /** @since 0.1.0 */
  type Subject,
  /** @since 0.1.0 */
  warn
} from "./internal/doctor/finding.js"

/**
 * What {@link run} needs: the settings, the storage, the protocol client, an `HttpClient` (trusting
 * the CA), the {@link Lookups}, and `FileSystem` / `Path` (for a file storage's modes). The http-01
 * responder and the {@link Dns01Probe} are used when they are in context (otherwise those checks
 * are skipped).
 *
 * @since 0.1.0
 * @category models
 */
export type Requirements = internal.Requirements

/**
 * Runs every check, for every configured certificate (or those in `only`).
 *
 * @since 0.1.0
 * @category programs
 */
export const run: (options?: Options) => Effect.Effect<Report, never, Requirements> = internal.run

/**
 * Whether a report has a failed check (`acme doctor` exits 1 then).
 *
 * @since 0.1.0
 * @category guards
 */
export const hasFailures = (report: Report): boolean => !report.ok
