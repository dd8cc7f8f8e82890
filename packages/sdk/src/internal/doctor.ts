/**
 * `Doctor.run`: the checks, assembled. First what concerns every certificate (the CA and its
 * clock, EAB, the storage, the account), then per certificate and name: DNS, CAA, and its
 * challenge (http-01 through the http-01 responder, dns-01 through the `Dns01Probe`).
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Path from "@effect/platform/Path"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { AcmeProtocol } from "../AcmeProtocol.js"
import { isIpAddress } from "../Identifier.js"
import type { CertificateSpec } from "../RenewalConfig.js"
import { directoryUrl as configuredDirectoryUrl, RenewalSettings } from "../RenewalSettings.js"
import type { Storage } from "../Storage.js"
import * as account from "./doctor/account.js"
import * as ca from "./doctor/ca.js"
import * as caa from "./doctor/caa.js"
import * as finding from "./doctor/finding.js"
import * as http01 from "./doctor/http01.js"
import * as names from "./doctor/names.js"
import { Dns01Probe, type Finding, type Lookups, type Options, type Report } from "./doctor/service.js"
import * as storage from "./doctor/storage.js"

/** what `run` needs */
export type Requirements =
  | RenewalSettings
  | Storage
  | AcmeProtocol
  | HttpClient.HttpClient
  | Lookups
  | FileSystem.FileSystem
  | Path.Path

const certificateChecks = (
  certificate: CertificateSpec,
  identity: caa.CaIdentity,
  options: { readonly http01Port: number; readonly requestTimeout: Duration.Duration }
): Effect.Effect<ReadonlyArray<Finding>, never, Requirements> =>
  Effect.gen(function*() {
    const challenge = certificate.challenge.type
    const findings: Array<Finding> = []
    const addresses = new Map<string, ReadonlyArray<string>>()
    for (const name of certificate.domains) {
      if (isIpAddress(name)) {
        addresses.set(name, [name])
        continue
      }
      const resolved = yield* names.check({ certificate: certificate.name, name, challenge })
      addresses.set(name, resolved.addresses)
      findings.push(resolved.finding)
      findings.push(yield* caa.check({ certificate: certificate.name, name, ca: identity, challenge }))
    }
    switch (certificate.challenge.type) {
      case "http-01": {
        findings.push(...yield* http01.check({
          certificate,
          addresses,
          port: options.http01Port,
          timeout: options.requestTimeout
        }))
        break
      }
      case "dns-01": {
        const probe = yield* Effect.serviceOption(Dns01Probe)
        if (Option.isNone(probe)) {
          findings.push(finding.skip(
            { check: "dns-01", certificate: certificate.name, subject: certificate.challenge.provider },
            "no dns-01 probe in this environment"
          ))
          break
        }
        for (const name of certificate.domains) {
          findings.push(...yield* probe.value.check({ certificate, name }))
        }
        break
      }
      case "tls-alpn-01": {
        findings.push(finding.skip(
          { check: "tls-alpn-01", certificate: certificate.name, subject: `port ${certificate.challenge.port ?? 443}` },
          "tls-alpn-01 is not checked (the names and CAA are)"
        ))
        break
      }
    }
    return findings
  }).pipe(Effect.withSpan("Doctor.certificate", { attributes: { certificate: certificate.name } }))

/** @internal */
export const run = (options: Options = {}): Effect.Effect<Report, never, Requirements> =>
  Effect.gen(function*() {
    const settings = yield* RenewalSettings
    const directoryUrl = yield* configuredDirectoryUrl
    const requestTimeout = Duration.decode(options.requestTimeout ?? "10 seconds")
    const facts = yield* ca.check({
      directoryUrl,
      clockTolerance: Duration.decode(options.clockTolerance ?? "1 minute"),
      requestTimeout
    })
    const findings: Array<Finding> = [...facts.findings]
    findings.push(...yield* storage.check(options.storagePath))
    findings.push(
      facts.reachable
        ? yield* account.check
        : finding.skip({ check: "account", subject: settings.config.account.name }, "the CA did not answer")
    )
    const only = options.only ?? []
    const selected = settings.config.certificates.filter((c) => only.length === 0 || only.includes(c.name))
    for (const certificate of selected) {
      findings.push(...yield* certificateChecks(certificate, facts.identity, {
        http01Port: options.http01Port ?? 80,
        requestTimeout
      }))
    }
    return finding.report(directoryUrl, findings)
  }).pipe(Effect.withSpan("Doctor.run"))
