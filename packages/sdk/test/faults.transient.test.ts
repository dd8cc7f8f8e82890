/**
 * Fault suite, transient faults (the pipeline against Pebble behind the FaultProxy, on TestClock):
 * 500/503 answers with Retry-After and connections dropped in the middle of an answer are survived
 * by the error handler and the scheduler. The certificate is issued, valid and matching its key on
 * disk, the failed request was sent again no sooner than the CA asked, and no temp file is left.
 */
import { FaultProxy, Pebble } from "@acme/testing"
import { expect, layer } from "@effect/vitest"
import { Effect, TestContext } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { requests } from "./support/acme.js"
import { expectLiveValid, proxiedPipeline, renewAt, storageFolder, temporaryFiles } from "./support/faults.js"

interface Case {
  readonly fault: string
  readonly rule: FaultProxy.Rule
  /** how many attempts failed before the one that worked */
  readonly failures: number
  /** the CA's Retry-After: the repeated request came no sooner */
  readonly retryAfterSeconds?: number
  /** newOrder requests Pebble saw (a dropped newOrder answer leaves an order behind) */
  readonly orders: number
  /** false when the CA had done the work and the retry had no need to ask again */
  readonly repeated?: boolean
}

const cases: ReadonlyArray<Case> = [
  {
    fault: "503 with Retry-After: 30 on newOrder, twice",
    rule: { method: "POST", path: "/order-plz", times: 2, fault: FaultProxy.status(503, { retryAfter: 30 }) },
    failures: 2,
    retryAfterSeconds: 30,
    orders: 1
  },
  {
    fault: "500 with Retry-After: 20 on finalize",
    rule: { method: "POST", path: "/finalize-order/", times: 1, fault: FaultProxy.status(500, { retryAfter: 20 }) },
    failures: 1,
    retryAfterSeconds: 20,
    orders: 1
  },
  {
    fault: "503 with Retry-After (an HTTP-date) on the directory",
    rule: {
      method: "GET",
      path: "/dir",
      times: 1,
      // a date long past: retry as soon as the policy allows
      fault: FaultProxy.status(503, { retryAfter: "Thu, 01 Jan 1970 00:00:00 GMT", body: "<html>Service Unavailable</html>", contentType: "text/html" })
    },
    // scan reads no directory (nothing stored has renewalInfo due); account fails once
    failures: 1,
    orders: 1
  },
  {
    fault: "connection dropped mid-answer to newOrder (the CA made the order)",
    rule: { method: "POST", path: "/order-plz", times: 1, fault: FaultProxy.drop },
    failures: 1,
    orders: 2
  },
  {
    fault: "connection dropped mid-answer to finalize (the CA finalized)",
    rule: { method: "POST", path: "/finalize-order/", times: 1, fault: FaultProxy.drop },
    failures: 1,
    orders: 1
  },
  {
    fault: "connection dropped mid-answer to the certificate download",
    rule: { method: "POST", path: "/certZ/", times: 1, fault: FaultProxy.drop },
    failures: 1,
    orders: 1
  },
  {
    fault: "connection dropped mid-answer to a challenge response",
    rule: { method: "POST", path: "/chalZ/", times: 1, fault: FaultProxy.drop },
    failures: 1,
    orders: 1,
    // the CA got the response and validated: present finds the authorization valid, nothing to answer
    repeated: false
  },
  {
    fault: "connection dropped before the answer to newNonce",
    rule: { method: "HEAD", path: "/nonce-plz", times: 1, fault: FaultProxy.drop },
    failures: 1,
    orders: 1
  }
]

layer(proxiedPipeline(), { excludeTestServices: true, timeout: 60_000 })("transient faults", (it) => {
  it.scoped.each(cases)("$fault: retried, and the certificate is issued", (c) =>
    Effect.gen(function*() {
      const proxy = yield* FaultProxy.FaultProxy
      const pebble = yield* Pebble.Pebble
      const root = yield* storageFolder
      const name = `t${cases.indexOf(c)}`
      const domain = `${name}.transient.example.test`
      yield* proxy.clear
      const seen = (yield* proxy.exchanges).length
      const start = (yield* requests).length
      yield* proxy.inject(c.rule)

      const report = yield* renewAt(root, [{ name, domains: [domain], challenge: "dns-01" }])
      const result = report.certificates[0]
      expect(result?.action, result?.reason).toBe("renewed")
      expect(result?.attempts).toBe(c.failures)

      const exchanges = (yield* proxy.exchanges).slice(seen)
      const spoiled = exchanges.filter((e) => e.fault !== undefined)
      expect(spoiled.length).toBe(c.rule.times)
      // the request that was spoiled went through later
      const matching = (e: FaultProxy.Exchange) =>
        e.method === c.rule.method && typeof c.rule.path === "string" && e.path.startsWith(c.rule.path)
      const spoilt = c.rule.times ?? 0
      expect(exchanges.filter(matching).length).toBe(c.repeated === false ? spoilt : spoilt + 1)
      if (c.repeated !== false) expect(exchanges.filter(matching).at(-1)?.fault).toBeUndefined()
      expect(exchanges.filter((e) => e.method === "POST" && e.path === "/order-plz" && e.fault !== "Status").length)
        .toBe(c.orders)

      if (c.retryAfterSeconds !== undefined) {
        const tries = (yield* requests).slice(start).filter((r) =>
          r.method === c.rule.method && typeof c.rule.path === "string" && new URL(r.url).pathname.startsWith(c.rule.path)
        )
        expect(tries.map((r) => r.status).slice(0, c.failures + 1)).toEqual([
          ...Array.from({ length: c.failures }, () => (c.rule.fault._tag === "Status" ? c.rule.fault.status : 0)),
          c.rule.path === "/order-plz" ? 201 : 200
        ])
        for (let i = 1; i <= c.failures; i++) {
          const waited = (tries[i]?.at ?? 0) - (tries[i - 1]?.at ?? 0)
          expect(waited).toBeGreaterThanOrEqual(c.retryAfterSeconds * 1000)
          expect(waited).toBeLessThan(c.retryAfterSeconds * 1000 + 2_000)
        }
      }

      // on disk: the new certificate, valid at the CA and matching its key; nothing half-written
      const serial = expectLiveValid(root, name, domain)
      expect(serial).toBe(result?.serial)
      expect((yield* pebble.certificateStatus(serial)).status).toBe("Valid")
      expect(temporaryFiles(root)).toEqual([])
      expect(fs.readdirSync(path.join(root, "pending"))).toEqual([])
    }).pipe(Effect.provide(TestContext.TestContext)))
})
