/**
 * Building findings, and the report from them.
 */
import type { CheckName, Finding, Report } from "./service.js"

/** what every finding of one check has in common */
export interface Subject {
  readonly check: CheckName
  readonly subject: string
  readonly certificate?: string | undefined
}

const make = (at: Subject, status: Finding["status"], message: string, fix?: string): Finding => ({
  check: at.check,
  ...(at.certificate === undefined ? {} : { certificate: at.certificate }),
  subject: at.subject,
  status,
  message,
  ...(fix === undefined ? {} : { fix })
})

/** @internal */
export const ok = (at: Subject, message: string): Finding => make(at, "ok", message)

/** @internal */
export const fail = (at: Subject, message: string, fix: string): Finding => make(at, "fail", message, fix)

/** @internal */
export const warn = (at: Subject, message: string, fix: string): Finding => make(at, "warn", message, fix)

/** @internal */
export const skip = (at: Subject, message: string): Finding => make(at, "skip", message)

/** @internal */
export const report = (directoryUrl: string, checks: ReadonlyArray<Finding>): Report => {
  const count = (status: Finding["status"]) => checks.filter((finding) => finding.status === status).length
  const counts = { ok: count("ok"), fail: count("fail"), warn: count("warn"), skip: count("skip") }
  return { directoryUrl, ok: counts.fail === 0, counts, checks }
}

/** the text of an unknown failure, one line */
export const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, " ").trim()
