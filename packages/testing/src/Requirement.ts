/**
 * What a test suite does when something it needs is not there (an ARI-capable Pebble, permission
 * to mount, a file system that takes `chattr +i`): on a developer's machine it is skipped, saying
 * why; under CI (`CI` set, and not `false` or `0`) it fails, so that a CI run never passes with a
 * suite quietly skipped. Not tied to a test runner:
 *
 * ```ts
 * import { Requirement } from "@acme/testing"
 *
 * const ari = Requirement.decide({
 *   what: "a Pebble that offers ARI",
 *   missing: binary === undefined ? "run scripts/fetch-pebble-ari.sh or set PEBBLE_ARI_BIN" : undefined
 * })
 * describe.skipIf(ari._tag !== "Run")(`ARI${Requirement.note(ari)}`, () => { ... })
 * // registered only when it fails: a CI run where everything is there shows no skipped test
 * if (ari._tag === "Fail") it("a Pebble that offers ARI is there", () => expect.fail(Requirement.message(ari)))
 * ```
 *
 * @since 0.1.0
 */

/**
 * `Run` the suite; `Skip` it (not under CI); `Fail` the run (under CI).
 *
 * @since 0.1.0
 * @category models
 */
export type Decision =
  | { readonly _tag: "Run" }
  | { readonly _tag: "Skip"; readonly what: string; readonly reason: string }
  | { readonly _tag: "Fail"; readonly what: string; readonly reason: string }

/**
 * Whether this is a CI run: `CI` is set to anything but an empty string, `false` or `0` (what CI
 * services set: GitHub Actions, GitLab and others set `CI=true`).
 *
 * @since 0.1.0
 * @category guards
 */
export const isCI = (env: Readonly<Record<string, string | undefined>> = process.env): boolean => {
  const value = env["CI"]?.trim().toLowerCase()
  return value !== undefined && value !== "" && value !== "false" && value !== "0"
}

/**
 * Decides for a suite that needs `what`: `missing` is undefined when it is there, else why it is
 * not and how to get it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const decide = (options: {
  readonly what: string
  readonly missing: string | undefined
  readonly env?: Readonly<Record<string, string | undefined>> | undefined
}): Decision =>
  options.missing === undefined
    ? { _tag: "Run" }
    : { _tag: isCI(options.env) ? "Fail" : "Skip", what: options.what, reason: options.missing }

/**
 * One line for a skipped or failed suite: `needs <what>: <reason>`, and under CI why that fails.
 *
 * @since 0.1.0
 * @category combinators
 */
export const message = (decision: Decision): string =>
  decision._tag === "Run"
    ? ""
    : `needs ${decision.what}: ${decision.reason}${
      decision._tag === "Fail" ? " (CI is set, so a missing requirement fails the run instead of skipping the suite)" : ""
    }`

/**
 * A suffix for a suite's title: empty when it runs, else ` (skipped: needs ...)`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const note = (decision: Decision): string =>
  decision._tag === "Run" ? "" : ` (${decision._tag === "Skip" ? "skipped" : "not run"}: ${message(decision)})`
