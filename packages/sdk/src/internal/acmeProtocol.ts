/**
 * The `AcmeProtocol` service assembled from its parts under `internal/acmeProtocol/`: the client
 * (transport, directory, newNonce), the signed POST with its badNonce rule, polling, and the
 * operations by resource.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Waits from "../Waits.js"
import { makeClient } from "./acmeProtocol/client.js"
import { accountOperations } from "./acmeProtocol/operations/account.js"
import { authorizationOperations } from "./acmeProtocol/operations/authorization.js"
import { certificateOperations } from "./acmeProtocol/operations/certificate.js"
import { orderOperations } from "./acmeProtocol/operations/order.js"
import { pollOperations } from "./acmeProtocol/polling.js"
import type { Options, Service } from "./acmeProtocol/service.js"
import { withSigning } from "./acmeProtocol/signedRequest.js"

/** @internal */
export const make = (options: Options): Effect.Effect<Service, never, HttpClient.HttpClient> =>
  Effect.map(HttpClient.HttpClient, (http): Service => {
    const client = makeClient(http, options)
    const protocol = withSigning(client, { badNonceRetries: options.badNonceRetries ?? Waits.defaultBadNonceRetries })
    return {
      directoryUrl: client.directoryUrl,
      directory: client.directory,
      newNonce: client.newNonce,
      ...accountOperations(protocol),
      ...orderOperations(protocol),
      ...authorizationOperations(protocol),
      ...pollOperations(protocol, {
        interval: Duration.decode(options.pollInterval ?? Waits.defaultPollInterval),
        maxInterval: Duration.decode(options.maxPollInterval ?? Waits.defaultMaxPollInterval),
        timeout: Duration.decode(options.pollTimeout ?? Waits.defaultPollTimeout)
      }),
      ...certificateOperations(protocol)
    }
  })
