import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { X509Certificate, createPrivateKey } from "node:crypto"
import { promisify } from "node:util"
import { Pebble } from "@acme/testing"
import { NodeContext } from "@effect/platform-node"
import { describe, expect, it, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { issueWithPebble, PebbleProtocol } from "../src/issue-with-pebble.js"

const tempFolder = () => fs.mkdtempSync(path.join(os.tmpdir(), "acme-example-"))

layer(Layer.merge(PebbleProtocol, NodeContext.layer), { excludeTestServices: true })("issue-with-pebble", (it) => {
  it.effect("obtains a certificate the CA holds, and writes chain and key that belong together", () =>
    Effect.gen(function*() {
      const pebble = yield* Pebble.Pebble
      const folder = tempFolder()
      const issued = yield* issueWithPebble(folder, ["example-a.example.test", "example-b.example.test"])
      expect(issued.names).toEqual(["example-a.example.test", "example-b.example.test"])
      const certificate = new X509Certificate(fs.readFileSync(issued.certificatePath))
      const key = createPrivateKey(fs.readFileSync(issued.keyPath))
      expect(certificate.checkPrivateKey(key)).toBe(true)
      expect(fs.statSync(issued.keyPath).mode & 0o777).toBe(0o600)
      expect((yield* pebble.certificateStatus(issued.serialNumber)).status).toBe("Valid")
    }))
})

describe("the example as a program", () => {
  it("prints where the certificate went", async () => {
    const folder = tempFolder()
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--conditions=@acme/source", "--import", "tsx", path.join(import.meta.dirname, "../src/issue-with-pebble.ts"), folder],
      { cwd: path.join(import.meta.dirname, "..") }
    )
    expect(stdout).toContain(`chain         ${path.join(folder, "fullchain.pem")}`)
    expect(stdout).toMatch(/issued certificate [0-9A-F]+ for demo\.example\.test/)
    expect(fs.existsSync(path.join(folder, "privkey.pem"))).toBe(true)
    // tsx compiles the example and the SDK on the fly: seconds alone, much longer on a busy machine
  }, 180_000)
})
