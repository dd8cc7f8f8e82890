/**
 * A configuration for `acme renew` against a Pebble of the test, and the checks of what it did:
 * shared by the tests of the three ways an operator installs `acme`.
 */
import type { Pebble } from "@acme/testing"
import { X509Certificate } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { expect } from "vitest"

/**
 * Writes `acme.yaml` (JSON, which YAML reads too) and Pebble's CA certificate into `folder`: one
 * certificate by http-01, answered by acme's own server on the port Pebble validates on; storage
 * in `folder/storage`. Returns the configuration's path.
 */
export const writeConfig = (pebble: Pebble.Service, folder: string, domain: string): string => {
  fs.mkdirSync(folder, { recursive: true })
  fs.writeFileSync(path.join(folder, "pebble-ca.pem"), pebble.caBundle)
  const config = path.join(folder, "acme.yaml")
  fs.writeFileSync(
    config,
    JSON.stringify({
      ca: { directory: pebble.directoryUrl, trust: ["./pebble-ca.pem"] },
      account: { email: "ops@example.test" },
      storage: { path: "./storage" },
      renewal: { maxAttempts: 2, maxWait: "5 seconds" },
      certificates: [
        { name: "site", domains: [domain], challenge: { type: "http-01", port: pebble.httpPort, address: "127.0.0.1" } }
      ]
    })
  )
  return config
}

/** `acme renew --json`'s report says the certificate was renewed, and its files are in the storage */
export const expectRenewed = (stdout: string, folder: string, domain: string): void => {
  const report: unknown = JSON.parse(stdout)
  expect(report).toMatchObject({ certificates: [{ name: "site", action: "renewed" }] })
  const live = path.join(folder, "storage", "live", "site")
  const certificate = new X509Certificate(fs.readFileSync(path.join(live, "fullchain.pem")))
  expect(certificate.subjectAltName).toBe(`DNS:${domain}`)
  expect(fs.statSync(path.join(live, "privkey.pem")).mode & 0o777).toBe(0o600)
}
