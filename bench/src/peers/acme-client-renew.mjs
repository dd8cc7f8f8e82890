// The cron run of a node program built on `acme-client` (npm), which has no renew command of its own:
//   node acme-client-renew.mjs <directoryUrl> <workdir> <httpPort> <domain>...
// For each domain, reads the certificate acme-client-issue.mjs stored in <workdir>, asks acme-client's
// own parser for its expiry, and issues it again (with acme-client-issue.mjs) when 30 days or less are
// left. The benchmark runs it when nothing is due: what it measures is loading acme-client and
// checking the stored certificates. Plain JavaScript run by node itself.
import acme from "acme-client"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const [directoryUrl, workdir, httpPort, ...domains] = process.argv.slice(2)
const renewBefore = 30 * 24 * 3600 * 1000
const issue = path.join(path.dirname(fileURLToPath(import.meta.url)), "acme-client-issue.mjs")
let renewed = 0
for (const domain of domains) {
  const file = path.join(workdir, `${domain}.pem`)
  const due = !fs.existsSync(file) ||
    acme.crypto.readCertificateInfo(fs.readFileSync(file)).notAfter.getTime() - Date.now() <= renewBefore
  if (due) {
    execFileSync(process.execPath, [issue, directoryUrl, workdir, domain, httpPort], { stdio: "inherit" })
    renewed++
  }
}
console.log(`${renewed} renewed, ${domains.length - renewed} not due`)
