// One issuance with node's `acme-client` (npm), the way its README's `client.auto()` does it:
//   node acme-client-issue.mjs <directoryUrl> <workdir> <domain> <httpPort>
// The account key and URL are kept in <workdir> (the first run registers the account, later runs
// reuse it, as lego and certbot do with their own account folders). http-01 is answered by a small
// server on 127.0.0.1:<httpPort>, Pebble's validation port. The CA's TLS root comes from
// NODE_EXTRA_CA_CERTS. Plain JavaScript run by node itself, so no TypeScript loader is measured.
import acme from "acme-client"
import * as fs from "node:fs"
import * as http from "node:http"
import * as path from "node:path"

const [directoryUrl, workdir, domain, httpPort] = process.argv.slice(2)
fs.mkdirSync(workdir, { recursive: true })
const keyFile = path.join(workdir, "account.key")
const urlFile = path.join(workdir, "account.url")
if (!fs.existsSync(keyFile)) {
  fs.writeFileSync(keyFile, await acme.crypto.createPrivateEcdsaKey("P-256"), { mode: 0o600 })
}
const accountUrl = fs.existsSync(urlFile) ? fs.readFileSync(urlFile, "utf8") : undefined

const tokens = new Map()
const server = http.createServer((request, response) => {
  const token = request.url?.split("/").at(-1)
  const answer = token === undefined ? undefined : tokens.get(token)
  response.writeHead(answer === undefined ? 404 : 200, { "content-type": "text/plain" })
  response.end(answer ?? "")
})
await new Promise((resolve) => server.listen(Number(httpPort), "127.0.0.1", resolve))

const client = new acme.Client({
  directoryUrl,
  accountKey: fs.readFileSync(keyFile),
  ...(accountUrl === undefined ? {} : { accountUrl })
})
const [key, csr] = await acme.crypto.createCsr({ commonName: domain, altNames: [domain] },
  await acme.crypto.createPrivateEcdsaKey("P-256"))
const certificate = await client.auto({
  csr,
  email: "bench@example.org",
  termsOfServiceAgreed: true,
  challengePriority: ["http-01"],
  skipChallengeVerification: true,
  challengeCreateFn: async (_authz, challenge, keyAuthorization) => {
    tokens.set(challenge.token, keyAuthorization)
  },
  challengeRemoveFn: async (_authz, challenge) => {
    tokens.delete(challenge.token)
  }
})
fs.writeFileSync(path.join(workdir, `${domain}.pem`), certificate)
fs.writeFileSync(path.join(workdir, `${domain}.key`), key, { mode: 0o600 })
if (accountUrl === undefined) fs.writeFileSync(urlFile, client.getAccountUrl())
server.close()
