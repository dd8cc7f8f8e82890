/**
 * dns-01 through pebble-challtestsrv's management API: the DNS provider for tests and the demo.
 * It sets the `_acme-challenge` TXT record with `POST /set-txt` and removes it with `/clear-txt`.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { ChallengeError, type ChallengeTask, Dns01Responder, type Responder } from "./ChallengeSolver.js"
import { dns01RecordName, dns01TxtValue } from "./ChallengeResponse.js"

/**
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Responder, never, HttpClient.HttpClient> = Effect.map(
  HttpClient.HttpClient,
  (client): Responder => {
    const call = (task: ChallengeTask, path: string, body: Record<string, string>) => {
      const base = task.config.type === "dns-01" && typeof task.config.url === "string" ? task.config.url : ""
      const failed = (description: string) =>
        new ChallengeError({
          reason: "Provider",
          challengeType: "dns-01",
          identifier: task.identifier.value,
          description: `challtestsrv at ${base}: ${description}`
        })
      return HttpClientRequest.post(new URL(path, base).href).pipe(
        HttpClientRequest.bodyUnsafeJson(body),
        client.execute,
        Effect.mapError((error) => failed(error.message)),
        Effect.flatMap((response) =>
          response.status === 200 ? Effect.void : Effect.fail(failed(`answered HTTP ${response.status}`))
        )
      )
    }
    const host = (task: ChallengeTask) => `${dns01RecordName(task.identifier)}.`
    return {
      present: (task) =>
        Effect.flatMap(
          dns01TxtValue(task.keyAuthorization),
          (value) => call(task, "/set-txt", { host: host(task), value })
        ),
      cleanup: (task) =>
        call(task, "/clear-txt", { host: host(task) }).pipe(
          Effect.catchAll((error) => Effect.logWarning(error.message))
        )
    }
  }
)

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Dns01Responder, never, HttpClient.HttpClient> = Layer.effect(Dns01Responder, make)
