/**
 * Fault suite, permanent faults (the pipeline against Pebble behind the FaultProxy): answers that
 * no retry can fix (malformed JSON, a wrong Content-Type, an oversized body, a redirect to http://)
 * fail the certificate at once with a typed InvalidResponse whose one-line message says what was
 * wrong, and leave the stored files byte for byte as they were, with no temp file and no pending key.
 */
import { FaultProxy } from "@acme/testing"
import { expect, layer } from "@effect/vitest"
import { Effect, TestContext } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { requests } from "./support/acme.js"
import { contents, expectLiveValid, proxiedPipeline, renewAt, storageFolder, temporaryFiles } from "./support/faults.js"

interface Case {
  readonly fault: string
  readonly rule: FaultProxy.Rule
  /** the stage the certificate failed in */
  readonly stage: string
  /** what the one-line message must say */
  readonly message: RegExp
  /** how many answers were spoiled: the directory is read by scan (which goes on without it) and again by account */
  readonly spoiled?: number
}

const cases: ReadonlyArray<Case> = [
  {
    fault: "malformed JSON in the newOrder answer",
    rule: { method: "POST", path: "/order-plz", fault: FaultProxy.malformedJson },
    stage: "order",
    message: /unusable answer from the CA to POST https:\/\/127\.0\.0\.1:\d+\/order-plz \(HTTP 201\): .*JSON/
  },
  {
    fault: "a wrong Content-Type on an authorization",
    rule: { method: "POST", path: "/authZ/", fault: FaultProxy.wrongContentType() },
    stage: "present",
    message: /\/authZ\/.*: the answer is text\/html; charset=utf-8, not JSON/
  },
  {
    fault: "an oversized (chunked) body while polling the order",
    rule: { method: "POST", path: "/my-order/", fault: FaultProxy.oversized() },
    // the order is polled after finalize (verify polls only the authorizations)
    stage: "finalize",
    message: /\/my-order\/.*: the body is over 1048576 bytes, more than the limit of 1048576 bytes/
  },
  {
    fault: "an oversized directory (declared in Content-Length)",
    rule: { method: "GET", path: "/dir", fault: FaultProxy.oversized({ declareLength: true }) },
    stage: "account",
    message: /GET https:\/\/127\.0\.0\.1:\d+\/dir \(HTTP 200\): the body is 2097152 bytes, more than the limit/,
    spoiled: 2
  },
  {
    fault: "a redirect of the directory to http://",
    rule: { method: "GET", path: "/dir", fault: FaultProxy.redirect() },
    stage: "account",
    message: /GET https:\/\/127\.0\.0\.1:\d+\/dir \(HTTP 301\): the CA redirected to http:\/\/127\.0\.0\.1:\d+\/dir, which is not https; redirects are not followed/,
    spoiled: 2
  },
  {
    fault: "a redirect of finalize to http://",
    rule: { method: "POST", path: "/finalize-order/", fault: FaultProxy.redirect({ status: 307 }) },
    stage: "finalize",
    message: /POST https:\/\/127\.0\.0\.1:\d+\/finalize-order\/\S+ \(HTTP 307\): the CA redirected to http:\/\//
  }
]

layer(proxiedPipeline(), { excludeTestServices: true, timeout: 60_000 })("permanent faults", (it) => {
  it.scoped.each(cases)("$fault: a typed error at once, the stored files untouched", ({ fault, message, rule, spoiled, stage }) =>
    Effect.gen(function*() {
      const proxy = yield* FaultProxy.FaultProxy
      const root = yield* storageFolder
      const name = `p${cases.findIndex((c) => c.fault === fault)}`
      const certificates = [{ name, domains: [`${name}.permanent.example.test`], challenge: "dns-01" as const }]
      yield* proxy.clear
      const first = yield* renewAt(root, certificates)
      expect(first.certificates[0]?.action).toBe("renewed")
      const serial = expectLiveValid(root, name, `${name}.permanent.example.test`)
      const before = contents(root)

      yield* proxy.inject(rule)
      const start = (yield* requests).length
      const seen = (yield* proxy.exchanges).length
      const report = yield* renewAt(root, certificates, { force: true })
      yield* proxy.clear
      const result = report.certificates[0]
      expect(result?.action).toBe("failed")
      // final: no second attempt
      expect(result?.attempts).toBe(1)
      expect(result?.error?.type).toBe("InvalidResponse")
      expect(result?.error?.stage).toBe(stage)
      expect(result?.reason).toMatch(message)
      expect(result?.reason).not.toContain("\n")
      expect(result?.reason).toMatch(/; [^;]+$/) // ends with what to do
      // the spoiled answer was not asked for again
      const faulted = (yield* proxy.exchanges).slice(seen).filter((e) => e.fault !== undefined)
      expect(faulted.length).toBe(spoiled ?? 1)
      expect((yield* requests).length).toBeGreaterThan(start)

      // on disk: the old certificate, byte for byte; no temp file; no pending key
      expect(contents(root)).toEqual(before)
      expect(expectLiveValid(root, name, `${name}.permanent.example.test`)).toBe(serial)
      expect(temporaryFiles(root)).toEqual([])
      const pending = path.join(root, "pending")
      expect(fs.existsSync(pending) ? fs.readdirSync(pending) : []).toEqual([])
    }).pipe(Effect.provide(TestContext.TestContext)))
})
