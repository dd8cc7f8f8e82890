/**
 * Fault suite, rate limits as the CA asks (the pipeline against Pebble behind the FaultProxy, on
 * TestClock): a 429 `rateLimited` with `Retry-After` on newAccount, newOrder or finalize is never
 * final and never a tight loop. Nothing at all is sent to the CA before the time it gave; then the
 * refused request is sent again and the certificate is issued. A `Retry-After` beyond
 * `renewal.maxWait` postpones the certificate at once with the time the CA gave (exit 1), and leaves
 * the stored files alone.
 */
import { FaultProxy, Pebble } from "@acme/testing"
import { Reporter } from "@acme/sdk"
import { expect, layer } from "@effect/vitest"
import { Clock, Effect, TestContext } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { requests } from "./support/acme.js"
import { contents, expectLiveValid, proxiedPipeline, renewAt, storageFolder, temporaryFiles } from "./support/faults.js"

const rateLimited = (retryAfter: number | string) =>
  FaultProxy.status(429, {
    retryAfter,
    body: JSON.stringify({
      type: "urn:ietf:params:acme:error:rateLimited",
      detail: "too many requests for this endpoint; see https://letsencrypt.org/docs/rate-limits/"
    })
  })

const endpoints = [
  { endpoint: "newAccount", path: "/sign-me-up", stage: "account" },
  { endpoint: "newOrder", path: "/order-plz", stage: "order" },
  { endpoint: "finalize", path: "/finalize-order/", stage: "finalize" }
] as const

layer(proxiedPipeline(), { excludeTestServices: true, timeout: 60_000 })("rate limits as the CA asks", (it) => {
  it.scoped.each(endpoints)("429 on $endpoint: nothing is sent before Retry-After, then it is issued", ({ endpoint, path: prefix }) =>
    Effect.gen(function*() {
      const proxy = yield* FaultProxy.FaultProxy
      const pebble = yield* Pebble.Pebble
      const root = yield* storageFolder
      const name = `rl-${endpoint}`
      const domain = `${name.toLowerCase()}.ratelimit.example.test`
      yield* proxy.clear
      // twice: 90 s, then 150 s
      yield* proxy.inject({ method: "POST", path: prefix, times: 1, fault: rateLimited(90) })
      yield* proxy.inject({ method: "POST", path: prefix, times: 1, fault: rateLimited(150) })
      const start = (yield* requests).length
      const report = yield* renewAt(root, [{ name, domains: [domain], challenge: "dns-01" }])
      yield* proxy.clear

      const result = report.certificates[0]
      expect(result?.action, result?.reason).toBe("renewed")
      expect(result?.attempts).toBe(2)
      const sent = (yield* requests).slice(start)
      const refused = sent.filter((r) => r.status === 429)
      expect(refused.map((r) => new URL(r.url).pathname.startsWith(prefix))).toEqual([true, true])
      // after each refusal, the CA hears nothing until its Retry-After has passed; then the same request
      for (const [i, wait] of [90_000, 150_000].entries()) {
        const at = refused[i]?.at ?? 0
        const next = refused[i] === undefined ? undefined : sent[sent.indexOf(refused[i]) + 1]
        expect(next?.at, `the request after refusal ${i + 1}`).toBeGreaterThanOrEqual(at + wait)
        // not much later either: the CA's time, with the policy's jitter at most
        expect(next?.at).toBeLessThan(at + wait + 2_000)
      }
      const retried = sent.filter((r) => new URL(r.url).pathname.startsWith(prefix)).map((r) => r.status)
      expect(retried).toEqual([429, 429, endpoint === "finalize" ? 200 : 201])
      expect(result?.error).toBeUndefined()
      const serial = expectLiveValid(root, name, domain)
      expect((yield* pebble.certificateStatus(serial)).status).toBe("Valid")
      expect(temporaryFiles(root)).toEqual([])
    }).pipe(Effect.provide(TestContext.TestContext)))

  it.scoped.each(endpoints)(
    "429 on $endpoint with a Retry-After beyond renewal.maxWait: postponed at once, with the CA's time",
    ({ endpoint, path: prefix, stage }) =>
      Effect.gen(function*() {
        const proxy = yield* FaultProxy.FaultProxy
        const root = yield* storageFolder
        const name = `rl-later-${endpoint}`
        const domain = `${name.toLowerCase()}.ratelimit.example.test`
        const certificates = [{ name, domains: [domain], challenge: "dns-01" as const }]
        yield* proxy.clear
        const first = yield* renewAt(root, certificates)
        expect(first.certificates[0]?.action).toBe("renewed")
        const before = contents(root)

        // newAccount is only sent when the account is not known: forget its URL (the key stays)
        if (endpoint === "newAccount") {
          const info = Object.keys(before).find((file) => file.startsWith("accounts/") && file.endsWith("account.json"))
          fs.rmSync(path.join(root, info ?? "missing"))
        }
        yield* proxy.inject({ method: "POST", path: prefix, times: 1, fault: rateLimited(3 * 3600) })
        const start = yield* Clock.currentTimeMillis
        const report = yield* renewAt(root, certificates, { force: true })
        yield* proxy.clear
        const elapsed = (yield* Clock.currentTimeMillis) - start

        const result = report.certificates[0]
        expect(result?.action, result?.reason).toBe("postponed")
        expect(result?.attempts).toBe(1)
        expect(result?.error?.type).toBe("RateLimited")
        expect(result?.error?.stage).toBe(stage)
        // the time the CA gave, and no waiting for it in this run
        const refusedAt = (yield* requests).filter((r) => r.status === 429).at(-1)?.at ?? 0
        expect(result?.notBefore).toBe(new Date(refusedAt + 3 * 3600_000).toISOString())
        expect(result?.reason).toContain("renewal.maxWait")
        expect(elapsed).toBeLessThan(60_000)
        expect(Reporter.hasFailures(report)).toBe(true)
        // the certificate on disk is the one from before
        expect(Object.fromEntries(Object.entries(contents(root)).filter(([p]) => !p.startsWith("accounts/"))))
          .toEqual(Object.fromEntries(Object.entries(before).filter(([p]) => !p.startsWith("accounts/"))))
      }).pipe(Effect.provide(TestContext.TestContext))
  )
})
