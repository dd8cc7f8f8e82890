/**
 * One GET of the CA's directory: does the CA answer, is this machine's clock (Effect's `Clock`)
 * within the tolerance of the CA's `Date` header, and is External Account Binding there when the
 * CA (its directory, or its preset) requires it.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as CaPreset from "../../CaPreset.js"
import { Directory } from "../../Directory.js"
import { RenewalSettings } from "../../RenewalSettings.js"
import * as finding from "./finding.js"
import type { Finding } from "./service.js"
import type { CaIdentity } from "./caa.js"

/** what the directory GET found out */
export interface CaFacts {
  readonly reachable: boolean
  readonly findings: ReadonlyArray<Finding>
  readonly identity: CaIdentity
}

const seconds = (millis: number) => `${Math.round(millis / 1000)} s`

/** @internal */
export const check = (options: {
  readonly directoryUrl: string
  readonly clockTolerance: Duration.Duration
  readonly requestTimeout: Duration.Duration
}): Effect.Effect<CaFacts, never, HttpClient.HttpClient | RenewalSettings> =>
  Effect.gen(function*() {
    const settings = yield* RenewalSettings
    const client = yield* HttpClient.HttpClient
    const url = options.directoryUrl
    const preset = CaPreset.forCa(settings.config.ca)
    const title = Option.match(preset, { onNone: () => "the CA", onSome: (p) => p.title })
    const answer = yield* client.execute(HttpClientRequest.get(url).pipe(HttpClientRequest.acceptJson)).pipe(
      Effect.flatMap((response) =>
        Effect.map(response.text, (text) => ({ status: response.status, headers: response.headers, text }))
      ),
      Effect.scoped,
      Effect.timeoutFail({ duration: options.requestTimeout, onTimeout: () => `no answer in ${Duration.format(options.requestTimeout)}` }),
      Effect.mapError((error) => typeof error === "string" ? error : finding.oneLine(error.message)),
      Effect.either
    )
    const at = { check: "ca" as const, subject: url }
    const presetIdentity: CaIdentity = { title, identities: Option.getOrUndefined(Option.map(preset, (p) => p.caaIdentities)) }
    if (answer._tag === "Left" || answer.right.status !== 200) {
      const what = answer._tag === "Left" ? answer.left : `HTTP ${answer.right.status}`
      return {
        reachable: false,
        identity: presetIdentity,
        findings: [
          finding.fail(at, `cannot read the directory: ${what}`, "check ca.directory, the network and ca.trust"),
          finding.skip({ check: "clock", subject: url }, "the CA did not answer"),
          finding.skip({ check: "eab", subject: url }, "the CA did not answer")
        ]
      }
    }
    const directory = Schema.decodeUnknownOption(Schema.parseJson(Directory))(answer.right.text)
    const meta = Option.flatMap(directory, (d) => Option.fromNullable(d.meta))
    const findings: Array<Finding> = [
      Option.isSome(directory)
        ? finding.ok(at, "the directory answers")
        : finding.fail(at, "the answer is not an ACME directory", "check ca.directory: it is the URL of the CA's directory")
    ]

    // the clock
    const clockAt = { check: "clock" as const, subject: url }
    const date = answer.right.headers["date"]
    // an HTTP date (RFC 9110 §5.6.7: "Sun, 06 Nov 1994 08:49:37 GMT"), which DateTime.make does not read
    const theirs = Option.filter(Option.map(Option.fromNullable(date), Date.parse), (millis) => !Number.isNaN(millis))
    if (Option.isNone(theirs)) {
      findings.push(finding.warn(clockAt, "the CA sent no Date header to compare with", "keep the clock synchronised (NTP)"))
    } else {
      const ours = yield* Clock.currentTimeMillis
      const difference = ours - theirs.value
      // the Date header has whole seconds
      findings.push(
        Math.abs(difference) <= Duration.toMillis(options.clockTolerance) + 1000
          ? finding.ok(clockAt, `within ${seconds(Math.abs(difference))} of the CA's clock`)
          : finding.fail(
            clockAt,
            `this machine's clock is ${seconds(Math.abs(difference))} ${difference > 0 ? "ahead of" : "behind"} the CA's`,
            "synchronise the clock (timedatectl set-ntp true, or chrony/ntpd)"
          )
      )
    }

    // External Account Binding
    const eabAt = { check: "eab" as const, subject: url }
    const byDirectory = Option.exists(meta, (m) => m.externalAccountRequired === true)
    const byPreset = Option.exists(preset, (p) => p.eab === "required")
    if (!byDirectory && !byPreset) {
      findings.push(finding.skip(eabAt, `${title} does not require External Account Binding`))
    } else if (Option.isSome(settings.eab)) {
      findings.push(finding.ok(eabAt, `${title} requires External Account Binding; credentials are configured`))
    } else {
      const hint = Option.flatMap(preset, (p) => Option.fromNullable(p.eabHint))
      findings.push(finding.fail(
        eabAt,
        `${title} requires External Account Binding and none is configured`,
        `add \`eab: { kid, hmacKey }\` under ca (or set ACME_EAB_KID and ACME_EAB_HMAC_KEY)${
          Option.match(hint, { onNone: () => "", onSome: (h) => `; ${h}` })
        }`
      ))
    }
    const fromDirectory = Option.flatMap(meta, (m) => Option.fromNullable(m.caaIdentities))
    return {
      reachable: true,
      findings,
      identity: Option.match(fromDirectory, {
        onNone: () => presetIdentity,
        onSome: (identities) => ({ title, identities: identities.map((i) => i.toLowerCase()) })
      })
    }
  })
