import { Route53 } from "@acme/dns"
import { Plugin } from "@acme/sdk"
import { HttpStub } from "@acme/testing"
import { describe, expect, it } from "@effect/vitest"
import aws4 from "aws4"
import { Effect, Either, Redacted } from "effect"
import { XMLParser } from "fast-xml-parser"
import { makeContext, platform } from "./support/context.js"

const accessKeyId = "AKIDEXAMPLE"
const secretAccessKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
const ns = "https://route53.amazonaws.com/doc/2013-04-01/"

const xml = (status: number, body: string) => ({
  status,
  contentType: "text/xml",
  text: `<?xml version="1.0" encoding="UTF-8"?>\n${body}`
})
const errorXml = (status: number, code: string, message: string) =>
  xml(
    status,
    `<ErrorResponse xmlns="${ns}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error>` +
      `<RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ErrorResponse>`
  )

const SIGV4 =
  /^AWS4-HMAC-SHA256 Credential=([A-Z0-9]+)\/(\d{8})\/us-east-1\/route53\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/

/** whether the request carries a valid SigV4 signature for `secret`: recomputed here with aws4 */
const signatureValid = (request: HttpStub.Request, host: string) => {
  const date = request.headers["x-amz-date"]
  const contentType = request.headers["content-type"]
  if (typeof date !== "string") return false
  const expected = aws4.sign({
    host,
    method: request.method,
    path: request.url,
    service: "route53",
    region: "us-east-1",
    headers: { "X-Amz-Date": date, ...(typeof contentType === "string" ? { "Content-Type": contentType } : {}) },
    ...(request.text.length > 0 ? { body: request.text } : {})
  }, { accessKeyId, secretAccessKey })
  return expected.headers?.["Authorization"] === request.headers.authorization
}

const reversed = (name: string) => name.replace(/\.$/, "").split(".").reverse().join(".")

/**
 * Route 53's REST API as a local stub speaking its XML: hosted zones `example.test.` (Z1) and
 * `zzz.test.` (Z2); record sets keyed by name; SigV4 checked on every request.
 */
const route53Stub = Effect.gen(function*() {
  const zones = [{ id: "/hostedzone/Z1", name: "example.test." }, { id: "/hostedzone/Z2", name: "zzz.test." }]
  const sets = new Map<string, { ttl: number; values: Array<string> }>([
    ["zzz.example.test.", { ttl: 300, values: ["\"unrelated\""] }]
  ])
  const changes: Array<{ action: string; name: string; ttl: number; values: Array<string> }> = []
  const parser = new XMLParser({ isArray: (tag) => ["Change", "ResourceRecord"].includes(tag), parseTagValue: false })
  let host = ""
  const stub = yield* HttpStub.make((request) => {
    const match = SIGV4.exec(request.headers.authorization ?? "")
    if (match === null) return errorXml(403, "MissingAuthenticationToken", "Missing Authentication Token")
    if (match[1] !== accessKeyId) {
      return errorXml(403, "InvalidClientTokenId", "The security token included in the request is invalid.")
    }
    if (!signatureValid(request, host)) {
      return errorXml(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
    }
    const url = new URL(request.url, "http://stub")
    if (request.method === "GET" && url.pathname === "/2013-04-01/hostedzonesbyname") {
      // zones in the order of their reversed labels, from dnsname on (as Route 53 lists them)
      const from = reversed(url.searchParams.get("dnsname") ?? "")
      const listed = zones.filter((z) => reversed(z.name) >= from).slice(0, 1)
      return xml(
        200,
        `<ListHostedZonesByNameResponse xmlns="${ns}"><HostedZones>${
          listed.map((z) =>
            `<HostedZone><Id>${z.id}</Id><Name>${z.name}</Name><CallerReference>ref</CallerReference>` +
            `<Config><PrivateZone>false</PrivateZone></Config><ResourceRecordSetCount>3</ResourceRecordSetCount></HostedZone>`
          ).join("")
        }</HostedZones><DNSName>${url.searchParams.get("dnsname")}</DNSName><IsTruncated>false</IsTruncated>` +
          `<MaxItems>1</MaxItems></ListHostedZonesByNameResponse>`
      )
    }
    const rrset = /^\/2013-04-01\/hostedzone\/([^/]+)\/rrset\/?$/.exec(url.pathname)
    if (rrset === null || rrset[1] !== "Z1") return errorXml(404, "NoSuchHostedZone", `No hosted zone found with ID: ${rrset?.[1]}`)
    if (request.method === "GET") {
      // the listing starts at name and goes on: the first set may be another name's
      const from = url.searchParams.get("name") ?? ""
      const names = [...sets.keys()].filter((n) => reversed(n) >= reversed(from)).sort((a, b) =>
        reversed(a).localeCompare(reversed(b))
      ).slice(0, 1)
      return xml(
        200,
        `<ListResourceRecordSetsResponse xmlns="${ns}"><ResourceRecordSets>${
          names.map((n) => {
            const set = sets.get(n)
            return `<ResourceRecordSet><Name>${n}</Name><Type>TXT</Type><TTL>${set?.ttl}</TTL><ResourceRecords>${
              set?.values.map((v) => `<ResourceRecord><Value>${v}</Value></ResourceRecord>`).join("")
            }</ResourceRecords></ResourceRecordSet>`
          }).join("")
        }</ResourceRecordSets><IsTruncated>false</IsTruncated><MaxItems>1</MaxItems></ListResourceRecordSetsResponse>`
      )
    }
    const body = parser.parse(request.text) as {
      ChangeResourceRecordSetsRequest: {
        ChangeBatch: {
          Changes: {
            Change: Array<{
              Action: string
              ResourceRecordSet: {
                Name: string
                Type: string
                TTL: string
                ResourceRecords: { ResourceRecord: Array<{ Value: string }> }
              }
            }>
          }
        }
      }
    }
    for (const change of body.ChangeResourceRecordSetsRequest.ChangeBatch.Changes.Change) {
      const set = change.ResourceRecordSet
      const values = set.ResourceRecords.ResourceRecord.map((r) => r.Value)
      changes.push({ action: change.Action, name: set.Name, ttl: Number(set.TTL), values })
      if (change.Action === "UPSERT") sets.set(set.Name, { ttl: Number(set.TTL), values })
      else if (change.Action === "DELETE") {
        const current = sets.get(set.Name)
        if (current === undefined || current.ttl !== Number(set.TTL) || current.values.join() !== values.join()) {
          return errorXml(
            400,
            "InvalidChangeBatch",
            `[Tried to delete resource record set [name='${set.Name}', type='TXT'] but the values provided do not match the current values]`
          )
        }
        sets.delete(set.Name)
      }
    }
    return xml(
      200,
      `<ChangeResourceRecordSetsResponse xmlns="${ns}"><ChangeInfo><Id>/change/C2682N5HXP0BZ4</Id>` +
        `<Status>PENDING</Status><SubmittedAt>2026-11-23T15:00:00.000Z</SubmittedAt></ChangeInfo></ChangeResourceRecordSetsResponse>`
    )
  })
  host = new URL(stub.url).host
  return { ...stub, sets, changes }
})

const credentials = { accessKeyId: Redacted.make(accessKeyId), secretAccessKey: Redacted.make(secretAccessKey) }

describe("Route53 against a stub of its REST API (XML, SigV4)", () => {
  it.scoped("UPSERTs the record set with every value kept, and DELETEs it with the last one", () =>
    Effect.gen(function*() {
      const stub = yield* route53Stub
      const provider = yield* Route53.make({ ...credentials, endpoint: stub.url })
      const name = "_acme-challenge.example.test"
      yield* provider.present({ name, value: "wildcard-value" })
      yield* provider.present({ name, value: "base-value" })
      expect(stub.sets.get(`${name}.`)).toEqual({ ttl: 60, values: ["\"wildcard-value\"", "\"base-value\""] })
      // the hosted zone was found by name: the record's name listed zzz.test. first, then example.test.
      expect((yield* stub.requests).filter((r) => r.url.includes("hostedzonesbyname")).map((r) => r.url).slice(0, 2)).toEqual([
        "/2013-04-01/hostedzonesbyname?dnsname=_acme-challenge.example.test.&maxitems=1",
        "/2013-04-01/hostedzonesbyname?dnsname=example.test.&maxitems=1"
      ])
      // every request was signed: SigV4 for route53 in us-east-1, with the access key id
      for (const request of yield* stub.requests) {
        expect(request.headers.authorization).toMatch(SIGV4)
        expect(request.headers["x-amz-date"]).toMatch(/^\d{8}T\d{6}Z$/)
        expect(request.headers.authorization).not.toContain(secretAccessKey)
      }
      yield* provider.cleanup({ name, value: "wildcard-value" })
      expect(stub.sets.get(`${name}.`)).toEqual({ ttl: 60, values: ["\"base-value\""] })
      yield* provider.cleanup({ name, value: "base-value" })
      expect(stub.sets.has(`${name}.`)).toBe(false)
      expect(stub.changes.map((c) => `${c.action} ${c.values.join(",")}`)).toEqual([
        "UPSERT \"wildcard-value\"",
        "UPSERT \"wildcard-value\",\"base-value\"",
        "UPSERT \"base-value\"",
        "DELETE \"base-value\""
      ])
      // the unrelated set the listing showed first was never touched
      expect(stub.sets.get("zzz.example.test.")).toEqual({ ttl: 300, values: ["\"unrelated\""] })
    }).pipe(Effect.provide(platform)))

  it.scoped("a bad access key is Unauthorized with Route 53's code, and says what to check", () =>
    Effect.gen(function*() {
      const stub = yield* route53Stub
      const provider = yield* Route53.make({
        accessKeyId: Redacted.make("AKIDWRONG"),
        secretAccessKey: Redacted.make("nope"),
        endpoint: stub.url,
        hostedZoneId: "Z1"
      })
      const error = yield* Effect.flip(provider.present({ name: "_acme-challenge.example.test", value: "v" }))
      expect(error.reason).toBe("Unauthorized")
      expect(error.message).toBe(
        "DNS provider route53: Route 53 rejected the request (GET /2013-04-01/hostedzone/Z1/rrset: HTTP 403: " +
          "InvalidClientTokenId: The security token included in the request is invalid.); check the access key and " +
          "its IAM permissions for route53:ChangeResourceRecordSets on the zone"
      )
    }).pipe(Effect.provide(platform)))

  it.scoped("a wrong secret fails the stub's signature check", () =>
    Effect.gen(function*() {
      const stub = yield* route53Stub
      const provider = yield* Route53.make({ ...credentials, secretAccessKey: Redacted.make("wrong"), endpoint: stub.url })
      const error = yield* Effect.flip(provider.present({ name: "_acme-challenge.example.test", value: "v" }))
      expect(error.reason).toBe("Unauthorized")
      expect(error.message).toContain("SignatureDoesNotMatch")
    }).pipe(Effect.provide(platform)))

  it.scoped("an unknown hosted zone is NotFound; a name in no hosted zone too", () =>
    Effect.gen(function*() {
      const stub = yield* route53Stub
      const wrongId = yield* Route53.make({ ...credentials, endpoint: stub.url, hostedZoneId: "/hostedzone/Z9" })
      const error = yield* Effect.flip(wrongId.present({ name: "_acme-challenge.example.test", value: "v" }))
      expect(error.reason).toBe("NotFound")
      expect(error.message).toBe(
        "DNS provider route53: GET /2013-04-01/hostedzone/Z9/rrset: HTTP 404: NoSuchHostedZone: No hosted zone found " +
          "with ID: Z9; check hostedZoneId"
      )
      const byName = yield* Route53.make({ ...credentials, endpoint: stub.url })
      const none = yield* Effect.flip(byName.present({ name: "_acme-challenge.example.org", value: "v" }))
      expect(none.message).toBe(
        "DNS provider route53: no Route 53 hosted zone holds _acme-challenge.example.org (asked for " +
          "_acme-challenge.example.org, example.org, org); check the credentials' account, or set hostedZoneId"
      )
      expect(stub.changes).toEqual([])
    }).pipe(Effect.provide(platform)))

  it.scoped("the plugin takes the credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY by default", () =>
    Effect.gen(function*() {
      const stub = yield* route53Stub
      const asked: Array<string> = []
      const context = makeContext({ AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey }, asked)
      const build = Either.getOrThrow(Plugin.configurable(Route53.plugin).configure({ endpoint: stub.url }))
      const provider = yield* build(context)
      yield* provider.present({ name: "_acme-challenge.example.test", value: "from-env" })
      expect(asked).toEqual(["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"])
      expect(stub.sets.get("_acme-challenge.example.test.")?.values).toEqual(["\"from-env\""])
    }).pipe(Effect.provide(platform)))
})
