/**
 * Messages that used to quote Schema's own text (`Expected { readonly version: 1; ... }`,
 * `(parseJson <-> ...`): a stored file that does not decode, a malformed JWK. They name the field
 * and say what was expected in plain words.
 */
import { AccountKey, CertificateName, Storage } from "@acme/sdk"
import { FileSystem, Path } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"

const schemaText = /parseJson|<->|Encoded side|Type side|Struct|readonly |└─|ReadonlyArray/

describe("no Schema text in messages", () => {
  it.scoped("a stored account.json that is a list, and a metadata.json with a field of the wrong type", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const root = yield* fs.makeTempDirectoryScoped({ prefix: "acme-messages-" })
      const storage = yield* Storage.makeFileSystem(root)
      const directoryUrl = "https://127.0.0.1:14000/dir"
      yield* storage.saveAccountKey(directoryUrl, "default", "key\n")
      yield* fs.writeFileString(path.join(root, "accounts", "127.0.0.1_14000", "default", "account.json"), "[]")
      const account = yield* Effect.flip(storage.loadAccount(directoryUrl, "default"))
      expect(account.reason).toBe("Corrupt")
      expect(account.message).toContain("expected an object, got []")
      expect(account.message).not.toMatch(schemaText)

      yield* storage.saveCertificate({
        name: CertificateName.make("web"),
        certPem: "c\n",
        chainPem: "c\n",
        fullchainPem: "c\n",
        keyPem: "k\n",
        metadata: {
          version: 1,
          name: CertificateName.make("web"),
          identifiers: [{ type: "dns", value: "example.org" }],
          keyType: "ec-p256",
          serialNumber: "01",
          notBefore: "2026-01-01T00:00:00.000Z",
          notAfter: "2026-04-01T00:00:00.000Z",
          issuer: "CA",
          directoryUrl,
          issuedAt: "2026-01-01T00:00:01.000Z"
        }
      })
      const metadata = path.join(root, "live", "web", "metadata.json")
      const stored: unknown = JSON.parse(yield* fs.readFileString(metadata))
      yield* fs.writeFileString(metadata, JSON.stringify({ ...(stored as object), identifiers: "example.org" }))
      const certificate = yield* Effect.flip(storage.loadCertificate(CertificateName.make("web")))
      expect(certificate.message).toContain("identifiers: expected a list")
      expect(certificate.message).not.toMatch(schemaText)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.effect("a malformed private JWK names the member that is wrong", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(AccountKey.fromJwk({ kty: "EC", crv: "P-256", x: 1, y: "y", d: "d" }))
      expect(error.message).toContain("x")
      expect(error.message).not.toMatch(schemaText)
    }))
})
