/**
 * Presents and cleans up challenge responses. The pipeline's stages see one `ChallengeSolver`; the
 * Layer behind it routes each task to the responder for its type (http-01, dns-01 and
 * dns-account-01, tls-alpn-01),
 * and each responder reads the certificate's challenge configuration (a port, a webroot, a DNS
 * provider). Swapping how challenges are answered means providing other responders, never touching
 * a stage.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { ChallengeType } from "./Authorization.js"
import type { Identifier } from "./Identifier.js"
import type { ChallengeConfig } from "./RenewalConfig.js"

/**
 * One challenge to answer.
 *
 * @since 0.1.0
 * @category models
 */
export interface ChallengeTask {
  /** the certificate this is for (its configured name) */
  readonly certificate: string
  readonly identifier: Identifier
  readonly type: ChallengeType
  readonly token: string
  readonly keyAuthorization: string
  /** the certificate's challenge configuration */
  readonly config: ChallengeConfig
  /**
   * the URL of the ACME account answering: the dns-account-01 record name is derived from it (the
   * pipeline always sets it)
   */
  readonly accountUrl?: string | undefined
  /** the authorization is for a wildcard (its identifier is then the base name, RFC 8555 §7.1.4) */
  readonly wildcard?: boolean | undefined
}

/**
 * A challenge response could not be put in place.
 *
 * @since 0.1.0
 * @category errors
 */
export class ChallengeError extends Schema.TaggedError<ChallengeError>("@acme/sdk/ChallengeError")("ChallengeError", {
  reason: Schema.Literal("PortInUse", "PermissionDenied", "Io", "Provider", "Unsupported"),
  challengeType: Schema.String,
  identifier: Schema.String,
  description: Schema.String
}) {
  override get message(): string {
    const what = `cannot present ${this.challengeType} for ${this.identifier}: ${this.description}`
    switch (this.reason) {
      case "PortInUse":
        return `${what}; stop what listens there, choose another port, or use http-01 with webroot`
      case "PermissionDenied":
        return `${what}; run with the rights to bind low ports (or use a port above 1024 behind a redirect), or use webroot`
      case "Unsupported":
        return `${what}; configure a challenge type this setup can answer`
      default:
        return what
    }
  }
}

/**
 * Something that answers challenges of one type.
 *
 * @since 0.1.0
 * @category models
 */
export interface Responder {
  readonly present: (task: ChallengeTask) => Effect.Effect<void, ChallengeError>
  /** removes what `present` put in place; never fails (problems are logged) */
  readonly cleanup: (task: ChallengeTask) => Effect.Effect<void>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service extends Responder {}

/**
 * @since 0.1.0
 * @category tags
 */
export class ChallengeSolver extends Context.Tag("@acme/sdk/ChallengeSolver")<ChallengeSolver, Service>() {}

/**
 * Answers http-01 (a server of its own, or files in a webroot).
 *
 * @since 0.1.0
 * @category tags
 */
export class Http01Responder extends Context.Tag("@acme/sdk/ChallengeSolver/Http01Responder")<
  Http01Responder,
  Responder
>() {}

/**
 * Answers dns-01 and dns-account-01 (the same TXT record at an account-specific name) through the
 * configured DNS provider.
 *
 * @since 0.1.0
 * @category tags
 */
export class Dns01Responder extends Context.Tag("@acme/sdk/ChallengeSolver/Dns01Responder")<
  Dns01Responder,
  Responder
>() {}

/**
 * Answers tls-alpn-01 (a TLS server of its own).
 *
 * @since 0.1.0
 * @category tags
 */
export class TlsAlpn01Responder extends Context.Tag("@acme/sdk/ChallengeSolver/TlsAlpn01Responder")<
  TlsAlpn01Responder,
  Responder
>() {}

/**
 * A solver that routes each task to the responder of its type; a type without one fails with
 * `Unsupported`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (responders: { readonly [K in ChallengeType]?: Responder | undefined }): Service => {
  const responderFor = (task: ChallengeTask) =>
    Option.match(Option.fromNullable(responders[task.type]), {
      onNone: () =>
        Effect.fail(
          new ChallengeError({
            reason: "Unsupported",
            challengeType: task.type,
            identifier: task.identifier.value,
            description: "no responder for this challenge type is set up"
          })
        ),
      onSome: Effect.succeed
    })
  return {
    present: (task) => Effect.flatMap(responderFor(task), (responder) => responder.present(task)),
    cleanup: (task) =>
      Effect.flatMap(Effect.option(responderFor(task)), (responder) =>
        Option.match(responder, { onNone: () => Effect.void, onSome: (r) => r.cleanup(task) }))
  }
}

/**
 * The solver over whichever responders are in context.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<ChallengeSolver> = Layer.effect(
  ChallengeSolver,
  Effect.gen(function*() {
    const http01 = yield* Effect.serviceOption(Http01Responder)
    const dns01 = yield* Effect.serviceOption(Dns01Responder)
    const tlsAlpn01 = yield* Effect.serviceOption(TlsAlpn01Responder)
    return make({
      "http-01": Option.getOrUndefined(http01),
      "dns-01": Option.getOrUndefined(dns01),
      "dns-account-01": Option.getOrUndefined(dns01),
      "tls-alpn-01": Option.getOrUndefined(tlsAlpn01)
    })
  })
)
