import { Pebble, Requirement } from "@acme/testing"
import { CertificateName, Renewal, RenewalState, Storage } from "@acme/sdk"
import { describe, expect, it, layer } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { clearFaults, inject, requests } from "./support/acme.js"
import { type CertificateInput, pipelineServices, settingsLayer } from "./support/pipeline.js"

// Debian bookworm's Pebble (2.4) has no renewalInfo; see AcmeProtocol.ari.test.ts.
const ariBinary = Option.getOrUndefined(await Effect.runPromise(Pebble.ariPebbleBinary))

const problem = (status: number, type: string, detail: string) => () =>
  new Response(JSON.stringify({ type: `urn:ietf:params:acme:error:${type}`, detail }), {
    status,
    headers: { "content-type": "application/problem+json" }
  })

const hasReplaces = (payload: unknown) => typeof payload === "object" && payload !== null && "replaces" in payload

const requirement = Requirement.decide({
  what: "a Pebble that offers ARI",
  missing: ariBinary === undefined ? "run scripts/fetch-pebble-ari.sh or set PEBBLE_ARI_BIN" : undefined
})

if (requirement._tag === "Fail") {
  it("a Pebble that offers ARI is there", () => {
    expect.fail(Requirement.message(requirement))
  })
}

describe.skipIf(requirement._tag !== "Run")(
  `renewal with ARI${Requirement.note(requirement)}`,
  () => {
    layer(pipelineServices().pipe(Layer.provideMerge(Pebble.layer({ pebbleBin: ariBinary }))), {
      excludeTestServices: true
    })("against Pebble 2.6", (it) => {
      const renew = (certificates: ReadonlyArray<CertificateInput>, options: Renewal.Options = {}) =>
        Renewal.renew(options).pipe(Effect.provide(settingsLayer(certificates)))
      const orderRequests = Effect.map(requests, (log) => log.filter((r) => r.method === "POST" && r.url.endsWith("/order-plz")))
      const lastState = Effect.flatMap(Storage.Storage, (storage) =>
        Effect.map(storage.loadCheckpoints, (all) => Option.getOrThrow(RenewalState.decode(all.at(-1)?.json ?? ""))))

      it.effect("plans by the CA's window, and honours its Retry-After before asking again", () =>
        Effect.gen(function*() {
          const storage = yield* Storage.Storage
          const web: ReadonlyArray<CertificateInput> = [{ name: "ari-web", domains: ["ari-web.example.test"], challenge: "http-01" }]
          yield* renew(web)
          const second = yield* renew(web)
          expect(second.certificates[0]?.action).toBe("skipped")
          expect(second.certificates[0]?.reason).toMatch(/^the CA suggests renewing between .* – .*; planned for /)
          const cached = Option.getOrThrow(yield* storage.loadCertificate(CertificateName.make("ari-web"))).metadata.renewalInfo
          expect(cached?.nextCheckAt).toBeDefined()
          // Pebble says Retry-After: 6 hours, so a third run uses the saved window and asks nothing:
          // no renewalInfo, not even the directory
          const asked = (yield* requests).filter((r) => r.url.includes("renewalInfo")).length
          const all = (yield* requests).length
          const third = yield* renew(web)
          expect(third.certificates[0]?.reason).toBe(second.certificates[0]?.reason)
          expect((yield* requests).filter((r) => r.url.includes("renewalInfo")).length).toBe(asked)
          expect((yield* requests).length).toBe(all)
        }))

      it.effect("a renewal names the certificate it replaces, and the CA records it", () =>
        Effect.gen(function*() {
          const storage = yield* Storage.Storage
          const old = Option.getOrThrow(yield* storage.loadCertificate(CertificateName.make("ari-web")))
          const before = (yield* orderRequests).length
          const report = yield* renew([{ name: "ari-web", domains: ["ari-web.example.test"], challenge: "http-01" }], {
            force: true
          })
          expect(report.certificates[0]?.action).toBe("renewed")
          // the report says it was an ARI replacement, of which certificate
          expect(report.certificates[0]?.replaced).toBe(old.metadata.certId)
          const sent = (yield* orderRequests).slice(before)
          expect(sent.map((r) => r.payload)).toEqual([
            { identifiers: [{ type: "dns", value: "ari-web.example.test" }], replaces: old.metadata.certId }
          ])
          const bucket = Option.getOrThrow(RenewalState.bucket(yield* lastState, CertificateName.make("ari-web")))
          expect(bucket.order?.replaces).toBe(old.metadata.certId)
          expect(bucket.order?.replacesDropped).toBe(false)
        }))

      it.effect.each([
        ["alreadyReplaced", 409, "alreadyReplaced", "this certificate has already been replaced"],
        ["conflict", 409, "conflict", "a replacement order is already in progress"]
      ] as const)("%s: orders once more without replaces, and never again with it", ([_, status, type, detail]) =>
        Effect.gen(function*() {
          const name = `ari-${type}`
          const certificates: ReadonlyArray<CertificateInput> = [{ name, domains: [`${name}.example.test`], challenge: "http-01" }]
          yield* renew(certificates)
          yield* inject({
            method: "POST",
            url: (url) => url.endsWith("/order-plz"),
            payload: hasReplaces,
            times: 5,
            respond: problem(status, type, detail)
          })
          const before = (yield* orderRequests).length
          const report = yield* renew(certificates, { force: true })
          expect(report.certificates[0]?.action).toBe("renewed")
          // not an ARI replacement in the end, and the report does not say it was
          expect(report.certificates[0]?.replaced).toBeUndefined()
          const sent = (yield* orderRequests).slice(before)
          // exactly two orders: with replaces (refused), then without
          expect(sent.map((r) => [r.status, hasReplaces(r.payload)])).toEqual([[status, true], [201, false]])
          const bucket = Option.getOrThrow(RenewalState.bucket(yield* lastState, CertificateName.make(name)))
          expect(bucket.order?.replacesDropped).toBe(true)
          expect(bucket.decision?.replacesRefused).toContain(detail)
        }).pipe(Effect.ensuring(clearFaults)))

      it.effect("malformed about the CertID (a certificate this CA did not issue): falls back without replaces", () =>
        Effect.gen(function*() {
          const storage = yield* Storage.Storage
          const name = CertificateName.make("ari-foreign")
          const certificates: ReadonlyArray<CertificateInput> = [{ name, domains: [`${name}.example.test`], challenge: "http-01" }]
          yield* renew(certificates)
          const stored = Option.getOrThrow(yield* storage.loadCertificate(name))
          // as if it had been issued by another issuer of this CA: Pebble knows no such AKI
          yield* storage.updateMetadata(name, { ...stored.metadata, certId: "AAAAAAAAAAAAAAAAAAAAAAAAAAA.AIdlQyE" })
          const before = (yield* orderRequests).length
          const report = yield* renew(certificates, { force: true })
          expect(report.certificates[0]?.action).toBe("renewed")
          const sent = (yield* orderRequests).slice(before)
          expect(sent.map((r) => [r.status, hasReplaces(r.payload)])).toEqual([[400, true], [201, false]])
          // the second order is signed with the nonce Pebble's refusal came with: no newNonce between
          expect(sent[0]?.replayNonce).toBeDefined()
          expect(sent[1]?.nonce).toBe(sent[0]?.replayNonce)
          const bucket = Option.getOrThrow(RenewalState.bucket(yield* lastState, name))
          expect(bucket.decision?.replacesRefused).toContain("parsing ARI CertID failed")
        }))

      it.effect("a refusal followed by a failure is retried later without replaces: no loop", () =>
        Effect.gen(function*() {
          const name = "ari-noloop"
          const certificates: ReadonlyArray<CertificateInput> = [{ name, domains: [`${name}.example.test`], challenge: "http-01" }]
          yield* renew(certificates)
          yield* inject({
            method: "POST",
            url: (url) => url.endsWith("/order-plz"),
            payload: hasReplaces,
            times: 5,
            respond: problem(409, "alreadyReplaced", "already replaced")
          })
          yield* inject({
            method: "POST",
            url: (url) => url.endsWith("/order-plz"),
            payload: (payload) => !hasReplaces(payload),
            times: 1,
            respond: problem(503, "serverInternal", "try again")
          })
          const before = (yield* orderRequests).length
          const report = yield* renew(certificates, { force: true })
          expect(report.certificates[0]?.action).toBe("renewed")
          const sent = (yield* orderRequests).slice(before)
          expect(sent.map((r) => [r.status, hasReplaces(r.payload)])).toEqual([[409, true], [503, false], [201, false]])
        }).pipe(Effect.ensuring(clearFaults)), 30_000)
    })
  }
)
