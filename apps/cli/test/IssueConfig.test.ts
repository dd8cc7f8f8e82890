/**
 * What `acme issue` writes into a configuration file (`IssueConfig.edit`), without running anything.
 */
import { Either } from "effect"
import { describe, expect, it } from "vitest"
import * as YAML from "yaml"
import * as IssueConfig from "../src/IssueConfig.js"

const file = [
  "ca:",
  "  directory: https://ca.example/dir",
  "account:",
  "  email: ops@example.org",
  "storage:",
  "  path: ./storage",
  "certificates:",
  "  - name: other",
  "    domains: [other.example.net]",
  "    challenge: { type: dns-01, provider: rfc2136, server: ns.example.net, tsig: { name: net-key, secret: { env: NET } } }",
  "  - name: web",
  "    domains: [www.example.org]",
  "    challenge: { type: dns-account-01, provider: rfc2136, draft: scoped-dns-challenges, server: ns.example.org, tsig: { name: org-key, secret: { env: ORG } } }",
  "  - name: cf",
  "    domains: [api.example.org]",
  "    challenge: { type: dns-01, provider: cloudflare, apiToken: { env: CF } }",
  ""
].join("\n")

const edit = (challenge: Record<string, unknown>, domains: ReadonlyArray<string> = ["*.example.org"]) =>
  Either.getOrThrow(IssueConfig.edit("acme.yaml", file, { domains, email: "ops@example.org", server: undefined, challenge }))

/** the last certificate of the file */
const added = (text: string): unknown => {
  const data: unknown = YAML.parse(text)
  return typeof data === "object" && data !== null && "certificates" in data && Array.isArray(data.certificates)
    ? data.certificates.at(-1)
    : undefined
}

describe("IssueConfig.edit: --dns PROVIDER", () => {
  it("takes the provider's options from the certificate of the same provider whose names are closest (as dns-01)", () => {
    const result = edit({ type: "dns-01", provider: "rfc2136" })
    expect(result.setupFrom).toBe("web")
    expect(added(result.text)).toEqual({
      name: "wildcard.example.org",
      domains: ["*.example.org"],
      challenge: { type: "dns-01", provider: "rfc2136", server: "ns.example.org", tsig: { name: "org-key", secret: { env: "ORG" } } }
    })
    expect(edit({ type: "dns-01", provider: "rfc2136" }, ["a.example.net"]).setupFrom).toBe("other")
    expect(edit({ type: "dns-01", provider: "cloudflare" }).setupFrom).toBe("cf")
  })

  it("a provider no certificate uses, or another challenge: the command line's challenge as it is", () => {
    const alone = edit({ type: "dns-01", provider: "route53" })
    expect(alone.setupFrom).toBeUndefined()
    expect(added(alone.text)).toMatchObject({ challenge: { type: "dns-01", provider: "route53" } })
    const http = edit({ type: "http-01", port: 80 }, ["new.example.org"])
    expect(http.setupFrom).toBeUndefined()
    expect(added(http.text)).toMatchObject({ challenge: { type: "http-01", port: 80 } })
  })
})
