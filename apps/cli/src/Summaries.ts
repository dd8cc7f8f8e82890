/**
 * What `acme` prints for people on stdout: the report of `renew` and `revoke`, `acme status`, an
 * account. Pure functions of the documents `--json` prints.
 *
 * @since 0.1.0
 */
import type { Accounts, Reporter, Status } from "@acme/sdk"
import { DateTime, Option } from "effect"

/** `2027-02-21 14:00 UTC` */
const humanTime = (iso: string): string =>
  Option.match(DateTime.make(iso), {
    onNone: () => iso,
    onSome: (time) => DateTime.formatIso(time).replace(/:\d\d(\.\d+)?Z$/, " UTC").replace("T", " ")
  })

const daysUntil = (now: DateTime.Utc, iso: string): Option.Option<number> =>
  Option.map(DateTime.make(iso), (at) => Math.floor(DateTime.distance(now, at) / 86_400_000))

const inDays = (days: number): string =>
  days < 0 ? `expired ${-days} day${days === -1 ? "" : "s"} ago` : `${days} day${days === 1 ? "" : "s"} left`

const pad = (value: string, width: number): string => value.padEnd(width)

const names = (list: ReadonlyArray<string>): string => list.join(", ")

/**
 * What an advisory (LLM) planner did, in one line; undefined for the deterministic planner, whose
 * plan is the one every line above already shows.
 *
 * @since 0.1.0
 * @category summaries
 */
export const plannerLine = (planner: Reporter.RunReport["planner"]): string | undefined => {
  if (planner === undefined || planner.provider === "deterministic") return undefined
  const who = `${planner.provider}${planner.model !== undefined ? ` (${planner.model})` : ""}`
  if (planner.fallback) {
    return `planner  ${who}: not used (${planner.fallbackReason ?? "no usable answer"}); the deterministic plan was followed`
  }
  const notes = [
    planner.dropped.length > 0 ? `dropped ${names(planner.dropped)} (not configured)` : undefined,
    planner.restored.length > 0 ? `restored ${names(planner.restored)} (left out of its answer)` : undefined,
    planner.disagreements.length > 0
      ? `ignored its ${
        planner.disagreements.map((d) => `${d.advised} for ${d.name}`).join(", ")
      } (the deterministic decision was kept)`
      : undefined
  ].filter((note) => note !== undefined)
  return `planner  ${who}: advice taken (order and notes)${notes.length > 0 ? `; ${notes.join("; ")}` : ""}`
}

/**
 * The report of `renew` or `revoke` as one line per certificate, then a count, the planner's line
 * (an LLM planner only) and the prose summary (an LLM reporter only).
 *
 * @since 0.1.0
 * @category summaries
 */
export const reportLines = (report: Reporter.RunReport, now: DateTime.Utc): Array<string> => {
  const nameWidth = Math.max(4, ...report.certificates.map((c) => c.name.length))
  // "postponed" is one letter longer than the other actions: the columns stay aligned
  const actionWidth = Math.max(8, ...report.certificates.map((c) => c.action.length))
  const out = report.certificates.map((certificate) => {
    const parts = [certificate.reason]
    if (certificate.notBefore !== undefined) parts.push(`next attempt not before ${humanTime(certificate.notBefore)}`)
    if (certificate.replaced !== undefined) parts.push(`ARI replacement (replaces ${certificate.replaced})`)
    if (certificate.serial !== undefined) parts.push(`serial ${certificate.serial}`)
    if (certificate.notAfter !== undefined) {
      const days = daysUntil(now, certificate.notAfter)
      parts.push(
        `expires ${humanTime(certificate.notAfter)}${Option.match(days, { onNone: () => "", onSome: (d) => ` (${inDays(d)})` })}`
      )
    }
    if (certificate.action === "renewed" && certificate.paths !== undefined) {
      parts.push(`fullchain ${certificate.paths.fullchain}, key ${certificate.paths.privkey}`)
    }
    return `${pad(certificate.action, actionWidth)} ${pad(certificate.name, nameWidth)}  ${parts.join("; ")}`
  })
  const count = (action: string) => report.certificates.filter((c) => c.action === action).length
  const postponed = count("postponed") > 0 ? `, ${count("postponed")} postponed` : ""
  const totals = report.command === "revoke"
    ? `${count("revoked")} revoked, ${count("failed")} failed`
    : `${count("renewed")} renewed, ${count("skipped")} skipped, ${count("failed")} failed${postponed}`
  const notes = [
    report.dryRun ? "dry run: nothing was changed" : undefined,
    report.resumed ? `resumed run ${report.runId}` : undefined
  ].filter((note) => note !== undefined)
  out.push(`${totals}${notes.length > 0 ? ` (${notes.join("; ")})` : ""}`)
  if (report.stopped !== undefined) out.push(`stopped: ${report.stopped}`)
  const planner = plannerLine(report.planner)
  if (planner !== undefined) out.push(planner)
  if (report.summary !== undefined) out.push("", report.summary)
  return out
}

/**
 * `acme status` for people: a block per certificate.
 *
 * @since 0.1.0
 * @category summaries
 */
export const statusLines = (report: Status.Report): Array<string> => {
  const out = [
    `CA ${report.directoryUrl}${report.caReachable ? "" : " (not reachable now: planned by lifetime, without renewal info)"}`
  ]
  for (const certificate of report.certificates) {
    out.push("")
    out.push(`${certificate.name}  ${certificate.domains.join(", ")}`)
    if (certificate.serial === undefined || certificate.notAfter === undefined) {
      out.push(`  certificate  none yet`)
    } else {
      const days = certificate.daysLeft !== undefined ? ` (${inDays(certificate.daysLeft)})` : ""
      out.push(`  certificate  serial ${certificate.serial}, not after ${humanTime(certificate.notAfter)}${days}`)
    }
    if (certificate.revokedAt !== undefined) out.push(`  revoked      ${humanTime(certificate.revokedAt)}`)
    const owed = certificate.pendingDeploy
    if (owed !== undefined) {
      out.push(
        owed.attempts === 0
          ? `  deploy       not run yet (stored ${humanTime(owed.since)}); the next \`acme renew\` runs the hook`
          : `  deploy       failed ${owed.attempts} time${owed.attempts === 1 ? "" : "s"} since ${humanTime(owed.since)}${
            owed.error !== undefined ? `: ${owed.error}` : ""
          }; the next \`acme renew\` runs the hook again`
      )
    }
    if (certificate.renewalWindow !== undefined) {
      out.push(
        `  ARI window   ${humanTime(certificate.renewalWindow.start)} to ${humanTime(certificate.renewalWindow.end)}${
          certificate.renewalWindow.explanationURL !== undefined ? ` (${certificate.renewalWindow.explanationURL})` : ""
        }`
      )
    }
    const at = certificate.next.at !== undefined && certificate.next.action === "renew later"
      ? ` at ${humanTime(certificate.next.at)}`
      : ""
    out.push(`  next         ${certificate.next.action}${at}: ${certificate.next.reason}`)
    if (certificate.lease !== undefined) out.push(`  renewing     by ${leaseHolder(certificate.lease)}`)
  }
  if (report.runs.length > 0) out.push("", "runs going on")
  for (const run of report.runs) out.push(`  ${leaseHolder(run)}`)
  return out
}

const leaseHolder = (lease: Status.LeaseStatus): string =>
  `run ${lease.runId} (pid ${lease.pid} on ${lease.host}), lease until ${humanTime(lease.expiresAt)}`

/**
 * An account for people.
 *
 * @since 0.1.0
 * @category summaries
 */
export const accountLines = (summary: Accounts.Summary): Array<string> => [
  `account   ${summary.url}`,
  `status    ${summary.status}${
    summary.deactivatedAt !== undefined
      ? ` (on ${humanTime(summary.deactivatedAt)}): it cannot be used again; set account.name to a new name and run \`acme renew\` to create a new account`
      : ""
  }`,
  `CA        ${summary.directoryUrl}`,
  `name      ${summary.name}`,
  `contact   ${summary.contact.length > 0 ? summary.contact.join(", ") : "(none)"}`,
  `key       ${summary.algorithm}, thumbprint ${summary.keyThumbprint}`,
  `dns-account-01 records at _${summary.dnsAccountLabel}._acme-challenge.<name>`,
  `created   ${humanTime(summary.createdAt)}`
]
