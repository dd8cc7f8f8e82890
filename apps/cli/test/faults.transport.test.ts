/**
 * Fault suite, the built `acme` binary against Pebble behind the FaultProxy (every request goes
 * through it, over HTTPS). Transient faults (503/500 with Retry-After, a connection dropped in the
 * middle of an answer) are retried and the certificate is issued: exit 0, a valid certificate on
 * disk. Permanent faults (malformed JSON, a wrong Content-Type, an oversized body, a redirect to
 * http://) end the certificate at once: exit 1, one line saying what was wrong, and the files of
 * the previous certificate byte for byte as they were, with no temp file and no pending key.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { FaultProxy, Pebble } from "@acme/testing"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { assertComplete, contents, liveSerial, pendingKeys, reportOf, temporaryFiles } from "./support/checks.js"
import { acme, type Result, temporaryFolder } from "./support/cli.js"

/** A folder whose config points at the proxy (and trusts its certificate) for one dns-01 certificate. */
const fixture = (pebble: Pebble.Service, proxy: FaultProxy.Service, name: string) => {
  const folder = temporaryFolder("acme-faults-")
  fs.writeFileSync(path.join(folder.path, "ca.pem"), proxy.caBundle)
  fs.writeFileSync(
    path.join(folder.path, "acme.yaml"),
    JSON.stringify({
      ca: { directory: proxy.directoryUrl, trust: ["./ca.pem"] },
      account: { email: "faults@example.test" },
      storage: { path: "./storage" },
      renewal: { maxAttempts: 4, maxWait: "10 seconds" },
      certificates: [{
        name,
        domains: [`${name}.faults.example.test`],
        challenge: { type: "dns-01", provider: "challtestsrv", url: pebble.challtestsrvUrl }
      }]
    })
  )
  return { ...folder, storage: path.join(folder.path, "storage"), domain: `${name}.faults.example.test` }
}

const renew = (cwd: string, ...extra: ReadonlyArray<string>): Effect.Effect<Result> =>
  Effect.promise(() => acme(["renew", "--json", ...extra], { cwd }))

const Env = FaultProxy.layer.pipe(Layer.provideMerge(Pebble.layer({ challengeServers: "external" })))

layer(Env, { excludeTestServices: true, timeout: 90_000 })("acme renew through a faulty network", (it) => {
  it.effect.each([
    {
      fault: "503 with Retry-After: 1 on newOrder",
      rule: { method: "POST", path: "/order-plz", times: 1, fault: FaultProxy.status(503, { retryAfter: 1 }) },
      stage: "order",
      said: /order failed \(the CA refused POST \S+\/order-plz with serverInternal \(HTTP 503\).*retry after 1s.*\); attempt 2 of 4 in 1(\.\d)? s/
    },
    {
      fault: "a connection dropped mid-answer to finalize",
      rule: { method: "POST", path: "/finalize-order/", times: 1, fault: FaultProxy.drop },
      stage: "finalize",
      said: /finalize failed \(.*the connection ended before the whole body arrived.*\); attempt 2 of 4 in [\d.]+ s/
    }
  ] satisfies ReadonlyArray<{ fault: string; rule: FaultProxy.Rule; stage: string; said: RegExp }>)(
    "$fault: retried, exit 0, a valid certificate on disk",
    ({ rule, said, stage }) =>
      Effect.gen(function*() {
        const pebble = yield* Pebble.Pebble
        const proxy = yield* FaultProxy.FaultProxy
        const folder = fixture(pebble, proxy, `transient-${stage}`)
        try {
          yield* proxy.clear
          yield* proxy.inject(rule)
          const result = yield* renew(folder.path)
          yield* proxy.clear
          expect(result.code, result.stderr).toBe(0)
          const report = reportOf(result)
          expect(report.certificates.map((c) => [c.action, c.attempts])).toEqual([["renewed", 1]])
          // the user was told what failed and when the next attempt comes
          expect(result.stderrLines.some((line) => said.test(line)), result.stderr).toBe(true)
          assertComplete(folder.storage)
          const serial = liveSerial(folder.storage, `transient-${stage}`, folder.domain)
          expect(serial).toBe(report.certificates[0]?.serial)
          expect((yield* pebble.certificateStatus(serial)).status).toBe("Valid")
          expect(temporaryFiles(folder.storage)).toEqual([])
          expect(pendingKeys(folder.storage)).toEqual([])
        } finally {
          folder.remove()
        }
      })
  )

  it.effect("permanent faults: exit 1, one line saying what was wrong, the old files untouched", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const proxy = yield* FaultProxy.FaultProxy
      yield* proxy.clear
      // one certificate issued without faults; each case runs on a copy of that storage
      const template = fixture(pebble, proxy, "permanent")
      try {
        const first = yield* renew(template.path)
        expect(first.code, first.stderr).toBe(0)
        const before = contents(template.storage)
        const serial = liveSerial(template.storage, "permanent", template.domain)

        const cases: ReadonlyArray<{ fault: string; rule: FaultProxy.Rule; said: RegExp }> = [
          {
            fault: "malformed JSON",
            rule: { method: "POST", path: "/order-plz", fault: FaultProxy.malformedJson },
            said: /unusable answer from the CA to POST https:\/\/127\.0\.0\.1:\d+\/order-plz \(HTTP 201\): .*JSON/
          },
          {
            fault: "wrong Content-Type",
            rule: { method: "POST", path: "/authZ/", fault: FaultProxy.wrongContentType() },
            said: /\/authZ\/\S+ \(HTTP 200\): the answer is text\/html; charset=utf-8, not JSON/
          },
          {
            fault: "oversized body",
            rule: { method: "POST", path: "/my-order/", fault: FaultProxy.oversized() },
            said: /\/my-order\/\S+ \(HTTP 200\): the body is over 1048576 bytes, more than the limit of 1048576 bytes/
          },
          {
            fault: "redirect to http://",
            rule: { method: "GET", path: "/dir", fault: FaultProxy.redirect() },
            said: /GET https:\/\/127\.0\.0\.1:\d+\/dir \(HTTP 301\): the CA redirected to http:\/\/127\.0\.0\.1:\d+\/dir, which is not https; redirects are not followed/
          }
        ]
        for (const c of cases) {
          const copy = temporaryFolder("acme-faults-copy-")
          try {
            fs.cpSync(template.path, copy.path, { recursive: true, verbatimSymlinks: true })
            const storage = path.join(copy.path, "storage")
            yield* proxy.clear
            yield* proxy.inject(c.rule)
            const result = yield* renew(copy.path, "--force")
            yield* proxy.clear
            expect(result.code, `${c.fault}: ${result.stderr}`).toBe(1)
            const report = reportOf(result)
            const certificate = report.certificates[0]
            expect(certificate?.action, c.fault).toBe("failed")
            expect(certificate?.attempts, c.fault).toBe(1)
            expect(certificate?.error?.type, c.fault).toBe("InvalidResponse")
            expect(certificate?.reason, c.fault).toMatch(c.said)
            // on stderr: the certificate's one line, and the command's
            expect(result.stderrLines.filter((line) => line.includes("permanent: failed: ")), c.fault).toEqual([
              expect.stringMatching(c.said)
            ])
            expect(result.stderrLines.at(-1)).toBe("acme: 1 of 1 certificate failed (permanent); the report says why")
            // on disk: as before, byte for byte
            expect(contents(storage), c.fault).toEqual(before)
            expect(liveSerial(storage, "permanent", template.domain)).toBe(serial)
            expect(temporaryFiles(storage), c.fault).toEqual([])
            expect(pendingKeys(storage), c.fault).toEqual([])
          } finally {
            copy.remove()
          }
        }
      } finally {
        template.remove()
      }
    }))
})
