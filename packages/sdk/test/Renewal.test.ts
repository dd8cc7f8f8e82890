import { X509Certificate } from "node:crypto"
import { Pebble } from "@acme/testing"
import { AcmeProtocol, Certificate, CertificateName, DeployHook, Renewal, RenewalState, Storage } from "@acme/sdk"
import { expect, layer } from "@effect/vitest"
import { Clock, Duration, Effect, Layer, Logger, LogLevel, Option, Ref } from "effect"
import { clearFaults, inject, requests } from "./support/acme.js"
import { recordingTracer } from "./support/tracing.js"
import { type CertificateInput, pipelineServices, settingsLayer } from "./support/pipeline.js"

const newOrders = Effect.map(requests, (log) => log.filter((r) => r.method === "POST" && r.url.endsWith("/order-plz")))

const renewWith = (certificates: ReadonlyArray<CertificateInput>, options: Renewal.Options = {}) =>
  Renewal.renew(options).pipe(Effect.provide(settingsLayer(certificates)))

const keyOf = (pem: string) => new X509Certificate(pem).publicKey.export({ format: "jwk" })

layer(pipelineServices().pipe(Layer.provideMerge(Pebble.layer())), { excludeTestServices: true })(
  "the renewal pipeline against Pebble",
  (it) => {
    const three: ReadonlyArray<CertificateInput> = [
      { name: "web", domains: ["www.three.example.test", "three.example.test"], challenge: "http-01" },
      { name: "dns", domains: ["*.three.example.test"], challenge: "dns-01", key: "ec-p384" },
      { name: "alpn", domains: ["alpn.three.example.test"], challenge: "tls-alpn-01", key: "rsa-2048" }
    ]

    it.effect("issues several certificates, one by each challenge type, into storage", () =>
      Effect.gen(function*() {
        const pebble = yield* Pebble.Pebble
        const storage = yield* Storage.Storage
        const report = yield* renewWith(three)
        expect(report.certificates.map((c) => [c.name, c.action])).toEqual([
          ["web", "renewed"],
          ["dns", "renewed"],
          ["alpn", "renewed"]
        ])
        expect(report.resumed).toBe(false)
        for (const certificate of report.certificates) {
          expect(certificate.reason).toBe("there is no certificate yet")
          const stored = Option.getOrThrow(yield* storage.loadCertificate(CertificateName.make(certificate.name)))
          expect(stored.metadata.serialNumber).toBe(certificate.serial)
          const chain = yield* Certificate.parseChain(stored.fullchainPem)
          expect(chain.certificates[0].identifiers.map((i) => i.value).sort()).toEqual([...certificate.domains].sort())
          // the CA holds it, valid
          expect((yield* pebble.certificateStatus(certificate.serial ?? "")).status).toBe("Valid")
          // and the stored key belongs to the stored certificate
          const key = Option.getOrThrow(yield* storage.loadCertificateKey(CertificateName.make(certificate.name)))
          expect(new X509Certificate(chain.certificates[0].pem).checkPrivateKey(
            (yield* Effect.promise(() => import("node:crypto"))).createPrivateKey(key)
          )).toBe(true)
        }
        expect(Option.getOrThrow(yield* storage.loadCertificate(CertificateName.make("dns"))).metadata.keyType).toBe("ec-p384")
      }))

    it.effect("a second run is a no-op: same serials, no new order, and it says why", () =>
      Effect.gen(function*() {
        const storage = yield* Storage.Storage
        const two: ReadonlyArray<CertificateInput> = [
          { name: "again-web", domains: ["www.again.example.test"], challenge: "http-01" },
          { name: "again-dns", domains: ["*.again.example.test"], challenge: "dns-01" }
        ]
        const first = yield* renewWith(two)
        expect(first.certificates.map((c) => c.action)).toEqual(["renewed", "renewed"])
        const serialsOf = Effect.forEach(two, (c) =>
          Effect.map(storage.loadCertificate(CertificateName.make(c.name)), (s) => Option.getOrThrow(s).metadata.serialNumber))
        const serials = yield* serialsOf
        const before = (yield* newOrders).length
        const report = yield* renewWith(two)
        expect(report.certificates.map((c) => c.action)).toEqual(["skipped", "skipped"])
        for (const certificate of report.certificates) {
          expect(certificate.reason).toMatch(/left of .*; renewal planned for .* \(when a third of its lifetime is left\)/)
        }
        expect((yield* newOrders).length).toBe(before)
        expect(yield* serialsOf).toEqual(serials)
      }))

    it.effect("a run with nothing due and nothing to ask the CA makes no request; the CA's lack of ARI is looked at again after 6 hours", () =>
      Effect.gen(function*() {
        const storage = yield* Storage.Storage
        const quiet: ReadonlyArray<CertificateInput> = [
          { name: "quiet-one", domains: ["one.quiet.example.test"], challenge: "http-01" },
          { name: "quiet-two", domains: ["two.quiet.example.test"], challenge: "http-01" }
        ]
        const seenOfLastRun = Effect.map(
          storage.loadCheckpoints,
          (checkpoints) => RenewalState.decode(checkpoints.at(-1)?.json ?? "").pipe(Option.map((s) => s.directorySeen))
        )
        yield* renewWith(quiet)
        // this Pebble offers no renewalInfo: the next run reads the directory to learn so
        const before = (yield* requests).length
        expect((yield* renewWith(quiet)).certificates.map((c) => c.action)).toEqual(["skipped", "skipped"])
        const directoryGets = (yield* requests).slice(before).filter((r) => r.method === "GET" && r.url.endsWith("/dir"))
        expect(directoryGets.length).toBe(1)
        const seen = yield* seenOfLastRun
        expect(Option.map(seen, (s) => s?.renewalInfo)).toEqual(Option.some(false))

        // within the ARI check interval: no request at all, and what was seen is carried on; the
        // checkpoints are listed once (for the run to resume, then for scan and plan to look back at)
        const quietFrom = (yield* requests).length
        const listings = yield* Ref.make(0)
        const counting = Layer.succeed(Storage.Storage, {
          ...storage,
          loadCheckpoints: Effect.zipRight(Ref.update(listings, (n) => n + 1), storage.loadCheckpoints)
        })
        expect((yield* renewWith(quiet).pipe(Effect.provide(counting))).certificates.map((c) => c.action))
          .toEqual(["skipped", "skipped"])
        expect(yield* Ref.get(listings)).toBe(1)
        expect((yield* requests).length).toBe(quietFrom)
        expect(yield* seenOfLastRun).toEqual(seen)

        // 7 hours later the directory is read again
        const base = yield* Effect.clock
        const shift = Duration.toMillis(Duration.hours(7))
        const later: Clock.Clock = {
          [Clock.ClockTypeId]: Clock.ClockTypeId,
          unsafeCurrentTimeMillis: () => base.unsafeCurrentTimeMillis() + shift,
          currentTimeMillis: Effect.sync(() => base.unsafeCurrentTimeMillis() + shift),
          unsafeCurrentTimeNanos: () => base.unsafeCurrentTimeNanos() + BigInt(shift) * 1_000_000n,
          currentTimeNanos: Effect.sync(() => base.unsafeCurrentTimeNanos() + BigInt(shift) * 1_000_000n),
          sleep: base.sleep
        }
        const laterFrom = (yield* requests).length
        expect((yield* renewWith(quiet).pipe(Effect.withClock(later))).certificates.map((c) => c.action))
          .toEqual(["skipped", "skipped"])
        expect((yield* requests).slice(laterFrom).filter((r) => r.url.endsWith("/dir")).length).toBe(1)
      }).pipe(
        // a storage of its own: the run 7 hours ahead would be the newest checkpoint of the shared one
        Effect.provide(Storage.layerMemory)
      ))

    it.effect("--force re-issues with a new key; --only limits it to the named certificates", () =>
      Effect.gen(function*() {
        const storage = yield* Storage.Storage
        const set: ReadonlyArray<CertificateInput> = [
          { name: "forced", domains: ["forced.example.test"], challenge: "http-01" },
          { name: "unselected-dns", domains: ["unselected.example.test"], challenge: "dns-01" },
          { name: "unselected-alpn", domains: ["alpn.unselected.example.test"], challenge: "tls-alpn-01" }
        ]
        yield* renewWith(set, { only: ["forced"] })
        const old = Option.getOrThrow(yield* storage.loadCertificate(CertificateName.make("forced")))
        const before = (yield* newOrders).length
        const report = yield* renewWith(set, { force: true, only: ["forced"] })
        expect(report.certificates.map((c) => [c.name, c.action, c.reason])).toEqual([
          ["forced", "renewed", "forced (--force)"],
          ["unselected-dns", "skipped", "not selected (--only)"],
          ["unselected-alpn", "skipped", "not selected (--only)"]
        ])
        expect((yield* newOrders).length).toBe(before + 1)
        const renewed = Option.getOrThrow(yield* storage.loadCertificate(CertificateName.make("forced")))
        expect(renewed.metadata.serialNumber).not.toBe(old.metadata.serialNumber)
        expect(keyOf(renewed.fullchainPem)).not.toEqual(keyOf(old.fullchainPem))
        expect(Option.isNone(yield* storage.loadCertificate(CertificateName.make("unselected-dns")))).toBe(true)
      }))

    it.effect("reuseKey keeps the certificate key across renewals", () =>
      Effect.gen(function*() {
        const storage = yield* Storage.Storage
        const reuse: ReadonlyArray<CertificateInput> = [
          { name: "reuse", domains: ["reuse.example.test"], challenge: "http-01", reuseKey: true }
        ]
        yield* renewWith(reuse)
        const first = Option.getOrThrow(yield* storage.loadCertificate(CertificateName.make("reuse")))
        yield* renewWith(reuse, { force: true })
        const second = Option.getOrThrow(yield* storage.loadCertificate(CertificateName.make("reuse")))
        expect(second.metadata.serialNumber).not.toBe(first.metadata.serialNumber)
        expect(keyOf(second.fullchainPem)).toEqual(keyOf(first.fullchainPem))
      }))

    it.effect("--dry-run says what would happen and changes nothing", () =>
      Effect.gen(function*() {
        const storage = yield* Storage.Storage
        const before = (yield* newOrders).length
        const checkpoints = (yield* storage.loadCheckpoints).length
        const report = yield* renewWith([
          { name: "dry", domains: ["dry.example.test"], challenge: "http-01" }
        ], { dryRun: true })
        expect(report.dryRun).toBe(true)
        expect(report.certificates[0]?.action).toBe("skipped")
        expect(report.certificates[0]?.reason).toBe("dry run; would renew: there is no certificate yet")
        expect((yield* newOrders).length).toBe(before)
        expect(Option.isNone(yield* storage.loadCertificate(CertificateName.make("dry")))).toBe(true)
        expect((yield* storage.loadCheckpoints).length).toBe(checkpoints)
      }))

    it.effect("a config change (a new name) makes the certificate due at once", () =>
      Effect.gen(function*() {
        const names = ["www.change.example.test", "change.example.test"]
        const first = yield* renewWith([{ name: "change", domains: names, challenge: "http-01" }])
        expect(first.certificates[0]?.action).toBe("renewed")
        const report = yield* renewWith([
          { name: "change", domains: [...names, "new.change.example.test"], challenge: "http-01" }
        ])
        expect(report.certificates[0]?.action).toBe("renewed")
        expect(report.certificates[0]?.reason).toBe("the names changed (added new.change.example.test)")
      }))

    it.effect("runs the deploy hook with the paths; a failing hook fails the certificate but keeps the files", () =>
      Effect.gen(function*() {
        const storage = yield* Storage.Storage
        const calls: Array<Record<string, string>> = []
        const hooks = Layer.succeed(DeployHook.DeployHook, {
          run: ({ certificate, command, environment }) => {
            calls.push({ ...environment })
            return command === "fail"
              ? Effect.fail(new DeployHook.DeployHookError({ certificate, command, reason: "ExitCode", exitCode: 3, output: "nginx: bad config" }))
              : Effect.void
          }
        })
        const report = yield* renewWith([
          { name: "hooked", domains: ["hooked.example.test"], challenge: "http-01", deployHook: "reload" },
          { name: "broken", domains: ["broken.example.test"], challenge: "http-01", deployHook: "fail" }
        ], { only: ["hooked", "broken"] }).pipe(Effect.provide(hooks))
        expect(report.certificates.map((c) => c.action)).toEqual(["renewed", "failed"])
        expect(report.certificates[1]?.reason).toContain("exited with code 3: nginx: bad config")
        expect(calls[0]).toMatchObject({
          ACME_CERT_NAME: "hooked",
          ACME_DOMAINS: "hooked.example.test",
          ACME_SERIAL: report.certificates[0]?.serial,
          ACME_FULLCHAIN_PATH: "memory:live/hooked/fullchain.pem",
          ACME_KEY_PATH: "memory:live/hooked/privkey.pem"
        })
        // the failed hook left the new certificate in place
        expect(Option.getOrThrow(yield* storage.loadCertificate(CertificateName.make("broken"))).metadata.serialNumber).toBe(
          report.certificates[1]?.serial
        )
      }))

    it.effect("a profile the CA offers is requested; one it does not offer fails the certificate, the rest go on", () =>
      Effect.gen(function*() {
        const pebble = yield* Pebble.Pebble
        // Debian's Pebbles know no profiles: the directory answers with Pebble's own plus meta.profiles
        const real = yield* Effect.flatMap(AcmeProtocol.AcmeProtocol, (acme) => acme.directory)
        yield* inject({
          method: "GET",
          url: (url) => url === pebble.directoryUrl,
          times: 100,
          respond: () =>
            new Response(
              JSON.stringify({ ...real, meta: { ...real.meta, profiles: { classic: "90 days", shortlived: "6 days" } } }),
              { headers: { "content-type": "application/json" } }
            )
        })
        const before = (yield* newOrders).length
        const report = yield* renewWith([
          { name: "profiled", domains: ["profiled.example.test"], challenge: "http-01", profile: "shortlived" },
          { name: "unprofiled", domains: ["unprofiled.example.test"], challenge: "http-01", profile: "tlsserver" }
        ], { only: ["profiled", "unprofiled"] }).pipe(Effect.ensuring(clearFaults))
        expect(report.certificates.map((c) => [c.name, c.action])).toEqual([["profiled", "renewed"], ["unprofiled", "failed"]])
        expect(report.certificates[1]?.reason).toBe(
          `unprofiled: the CA does not offer the profile "tlsserver" (it offers classic, shortlived); change certificates[].profile`
        )
        // at its first contact with the CA (the account stage reads the directory), before any order
        expect(report.certificates[1]?.error?.stage).toBe("account")
        expect(report.certificates[1]?.error?.type).toBe("PipelineError")
        const sent = (yield* newOrders).slice(before)
        expect(sent.map((r) => r.payload)).toEqual([
          { identifiers: [{ type: "dns", value: "profiled.example.test" }], profile: "shortlived" }
        ])
        const storage = yield* Storage.Storage
        expect(Option.getOrThrow(yield* storage.loadCertificate(CertificateName.make("profiled"))).metadata.profile).toBe("shortlived")
      }))

    it.effect("a run imports the account key once, whatever the number of certificates, and parses no CSR it made", () =>
      Effect.gen(function*() {
        const { spans, tracer } = recordingTracer()
        const certificates: ReadonlyArray<CertificateInput> = ["one", "two", "three"].map((name) => ({
          name: `imports-${name}`,
          domains: [`${name}.imports.example.test`],
          challenge: "http-01"
        }))
        const report = yield* renewWith(certificates).pipe(Effect.withTracer(tracer))
        expect(report.certificates.map((c) => c.action)).toEqual(["renewed", "renewed", "renewed"])
        const named = (name: string) => spans.filter((span) => span.name === name).length
        // signed by order, present, verify, finalize and download of each certificate: one import
        // (the account existed, made by an earlier test of this file or this run's first certificate)
        expect(named("AccountKey.fromPem")).toBeLessThanOrEqual(2)
        // each CSR is made by csr and handed on in memory, never parsed back from its PEM
        expect(named("Csr.fromPem")).toBe(0)
        expect(named("Csr.create")).toBe(3)
      }))

    it.effect("no private key ever appears in a checkpoint or a log line", () =>
      Effect.gen(function*() {
        const storage = yield* Storage.Storage
        const lines: Array<string> = []
        const capture = Logger.add(Logger.make(({ annotations, message }) => {
          lines.push(JSON.stringify({ message, annotations }))
        }))
        yield* renewWith([{ name: "secret", domains: ["secret.example.test"], challenge: "dns-01" }]).pipe(
          Effect.provide(capture),
          Logger.withMinimumLogLevel(LogLevel.All)
        )
        const account = yield* storage.loadAccount((yield* Pebble.Pebble).directoryUrl, "default")
        const secrets = [
          Option.getOrThrow(yield* storage.loadCertificateKey(CertificateName.make("secret"))),
          Option.getOrThrow(account).keyPem
        ].flatMap((pem) => pem.split("\n").filter((line) => line.length > 20 && !line.startsWith("-----")))
        expect(secrets.length).toBeGreaterThan(2)
        const checkpoints = (yield* storage.loadCheckpoints).map((c) => c.json).join("\n")
        expect(checkpoints.length).toBeGreaterThan(1000)
        expect(lines.length).toBeGreaterThan(0)
        for (const secret of secrets) {
          expect(checkpoints).not.toContain(secret)
          expect(lines.join("\n")).not.toContain(secret)
        }
        // the checkpoints decode as state records with the nonce threaded per certificate
        const last = Option.getOrThrow(RenewalState.decode((yield* storage.loadCheckpoints).at(-1)?.json ?? ""))
        expect(last.phase).toBe("done")
        expect(RenewalState.bucket(last, CertificateName.make("secret")).pipe(Option.map((b) => b.stage))).toEqual(Option.some("done"))
      }))
  }
)
