/**
 * Obtains a real certificate from a local Pebble through the SDK's AcmeProtocol, step by step, and
 * writes it to a folder.
 *
 *   pnpm --filter @acme/examples issue-with-pebble [output folder]
 *
 * Every signed call takes the nonce the previous answer carried and returns the next one: the
 * program threads it through, the protocol service keeps none.
 */
import { Pebble, PebbleHttpClient } from "@acme/testing"
import {
  AccountKey,
  AcmeProtocol,
  Authorization,
  CertificateKey,
  ChallengeResponse,
  Csr,
  Identifier
} from "@acme/sdk"
import { FileSystem, Path } from "@effect/platform"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Console, DateTime, Effect, Layer } from "effect"

/** What the program wrote, and what it obtained. */
export interface Issued {
  readonly folder: string
  readonly certificatePath: string
  readonly keyPath: string
  readonly serialNumber: string
  readonly names: ReadonlyArray<string>
  readonly notAfter: string
}

export const issueWithPebble = (folder: string, names: ReadonlyArray<string> = ["demo.example.test"]) =>
  Effect.gen(function*() {
    const acme = yield* AcmeProtocol.AcmeProtocol
    const pebble = yield* Pebble.Pebble
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path

    // 1. directory, first nonce, account
    const directory = yield* acme.directory
    const accountKey = yield* AccountKey.generate("ES256")
    const created = yield* acme.newAccount({
      directory,
      nonce: yield* acme.newNonce(directory),
      key: accountKey,
      termsOfServiceAgreed: true,
      contact: ["mailto:demo@example.test"]
    })
    const account = { key: accountKey, url: created.value.url }
    let nonce = created.nonce

    // 2. order the names
    const identifiers = yield* Identifier.parseAll(names)
    const order = yield* acme.newOrder({ directory, nonce, account, order: { identifiers } })
    nonce = order.nonce

    // 3. answer each authorization's http-01 challenge (challtestsrv serves the response for Pebble)
    for (const url of order.value.authorizations) {
      const authorization = yield* acme.getAuthorization({ nonce, account, url })
      nonce = authorization.nonce
      const challenge = yield* Authorization.selectChallenge(authorization.value, "http-01")
      const token = challenge.token ?? ""
      yield* pebble.addHttp01(token, ChallengeResponse.keyAuthorization(token, accountKey))
      const responded = yield* acme.respondToChallenge({ nonce, account, url: challenge.url })
      const valid = yield* acme.pollAuthorization({ nonce: responded.nonce, account, url })
      nonce = valid.nonce
      yield* pebble.removeHttp01(token)
    }

    // 4. finalize with a CSR for a fresh certificate key, wait for issuance, download the chain
    const ready = yield* acme.pollOrder({ nonce, account, url: order.value.url, until: "ready" })
    const key = yield* CertificateKey.generate("ec-p256")
    const csr = yield* Csr.create({ key, identifiers })
    const finalized = yield* acme.finalize({ nonce: ready.nonce, account, order: ready.value, csr })
    const issued = yield* acme.pollOrder({ nonce: finalized.nonce, account, url: order.value.url, until: "valid" })
    const download = yield* acme.downloadCertificate({
      nonce: issued.nonce,
      account,
      url: issued.value.certificate ?? ""
    })

    // 5. write the chain and the key (0600)
    yield* fs.makeDirectory(folder, { recursive: true })
    const certificatePath = path.join(folder, "fullchain.pem")
    const keyPath = path.join(folder, "privkey.pem")
    yield* fs.writeFileString(certificatePath, download.value.chain.pem)
    yield* fs.writeFileString(keyPath, yield* CertificateKey.toPem(key), { mode: 0o600 })
    yield* fs.chmod(keyPath, 0o600)

    const leaf = download.value.chain.certificates[0]
    return {
      folder,
      certificatePath,
      keyPath,
      serialNumber: leaf.serialNumber,
      names: leaf.identifiers.map((identifier) => identifier.value),
      notAfter: DateTime.formatIso(leaf.notAfter)
    } satisfies Issued
  })

/** Pebble and challtestsrv on free loopback ports, and an AcmeProtocol that trusts them. */
export const PebbleProtocol = Layer.unwrapEffect(
  Effect.map(Pebble.Pebble, (pebble) => AcmeProtocol.layer({ directoryUrl: pebble.directoryUrl }))
).pipe(Layer.provide(PebbleHttpClient.layer), Layer.provideMerge(Pebble.layer()))

const main = Effect.gen(function*() {
  const path = yield* Path.Path
  const folder = path.resolve(process.argv[2] ?? ".acme-demo")
  yield* Console.log("starting Pebble (a local test CA) and asking it for a certificate...")
  const issued = yield* issueWithPebble(folder)
  yield* Console.log(`issued certificate ${issued.serialNumber} for ${issued.names.join(", ")}`)
  yield* Console.log(`  valid until   ${issued.notAfter}`)
  yield* Console.log(`  chain         ${issued.certificatePath}`)
  yield* Console.log(`  private key   ${issued.keyPath} (mode 0600)`)
})

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split("/").pop() ?? "")) {
  main.pipe(Effect.provide(Layer.merge(PebbleProtocol, NodeContext.layer)), NodeRuntime.runMain)
}
