/**
 * The ACME clients under test and how each one is run for one single-name ec-p256 issuance against
 * the counting proxy: our CLI, lego, certbot and node's acme-client (the SDK runs in process, see
 * sdk-run.ts). Each keeps its account in its own folder, so that only the warm-up run registers one.
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"
import * as path from "node:path"
import type { Command } from "./measure.js"

/** the workspace root (bench/src/.. /..) */
export const root = path.resolve(import.meta.dirname, "..", "..")

/** the bundled CLI */
export const cliBinary = path.join(root, "apps", "cli", "dist", "acme.mjs")

/**
 * Where the CA is and how to reach it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Target {
  readonly directoryUrl: string
  /** PEM file of the root the CA's HTTPS certificate chains to */
  readonly caFile: string
  /** the port Pebble sends http-01 validation requests to, on 127.0.0.1 */
  readonly httpPort: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Client {
  readonly id: string
  readonly label: string
  /** prints the version (also the cold-start command) */
  readonly version: Command
  /** one issuance of `<name>.example.com`, state kept under `workdir` */
  readonly issue: (target: Target, workdir: string, name: string) => Command
  /**
   * What cron runs to keep the certificates `names` (issued by `issue` under `workdir`) valid, when
   * none of them is due: one command, or one per certificate for a client that renews one at a time
   */
  readonly renewAll: (target: Target, workdir: string, names: ReadonlyArray<string>) => ReadonlyArray<Command>
}

/** Our CLI's configuration for these certificates: http-01 by its own server on Pebble's port. */
export const cliConfig = (target: Target, workdir: string, names: ReadonlyArray<string>): string => {
  const file = path.join(workdir, `acme-${names[0] ?? "none"}${names.length > 1 ? `-x${names.length}` : ""}.json`)
  fs.mkdirSync(workdir, { recursive: true })
  fs.writeFileSync(file, JSON.stringify({
    ca: { directory: target.directoryUrl, trust: [target.caFile] },
    account: { email: "bench@example.org" },
    storage: { path: path.join(workdir, "storage") },
    certificates: names.map((name) => ({
      name,
      domains: [`${name}.example.com`],
      challenge: { type: "http-01", port: target.httpPort, address: "127.0.0.1" }
    }))
  }, null, 2))
  return file
}

/**
 * @since 0.1.0
 * @category clients
 */
export const ours: Client = {
  id: "acme-cli",
  label: "acme (this project, CLI)",
  version: { command: process.execPath, args: [cliBinary, "--version"] },
  issue: (target, workdir, name) => ({
    command: process.execPath,
    args: [cliBinary, "renew", "--config", cliConfig(target, workdir, [name])]
  }),
  renewAll: (target, workdir, names) => [{
    command: process.execPath,
    args: [cliBinary, "renew", "--config", cliConfig(target, workdir, names)]
  }]
}

/** `acme status` of the certificates `names` stored under `workdir` (no peer has the same command). */
export const ourStatus = (target: Target, workdir: string, names: ReadonlyArray<string>): Command => ({
  command: process.execPath,
  args: [cliBinary, "status", "--config", cliConfig(target, workdir, names)]
})

const legoCommand = (target: Target, workdir: string, name: string, action: ReadonlyArray<string>): Command => ({
  command: "lego",
  args: [
    "--server", target.directoryUrl,
    "--accept-tos",
    "--email", "bench@example.org",
    "--key-type", "ec256",
    "--path", workdir,
    "--domains", `${name}.example.com`,
    "--http", "--http.port", `127.0.0.1:${target.httpPort}`,
    ...action
  ],
  env: { LEGO_CA_CERTIFICATES: target.caFile }
})

/**
 * @since 0.1.0
 * @category clients
 */
export const lego: Client = {
  id: "lego",
  label: "lego",
  version: { command: "lego", args: ["--version"] },
  issue: (target, workdir, name) => legoCommand(target, workdir, name, ["run"]),
  // lego renews the certificate of the --domains it is given: cron runs it once per certificate
  renewAll: (target, workdir, names) => names.map((name) => legoCommand(target, workdir, name, ["renew", "--days", "30"]))
}

/**
 * @since 0.1.0
 * @category clients
 */
export const certbot: Client = {
  id: "certbot",
  label: "certbot",
  version: { command: "certbot", args: ["--version"] },
  issue: (target, workdir, name) => ({
    command: "certbot",
    args: [
      "certonly", "--standalone", "--non-interactive", "--agree-tos",
      "--email", "bench@example.org",
      "--server", target.directoryUrl,
      "--config-dir", path.join(workdir, "config"),
      "--work-dir", path.join(workdir, "work"),
      "--logs-dir", path.join(workdir, "logs"),
      "--domain", `${name}.example.com`,
      "--cert-name", name,
      "--key-type", "ecdsa", "--elliptic-curve", "secp256r1",
      "--preferred-challenges", "http",
      "--http-01-address", "127.0.0.1", "--http-01-port", String(target.httpPort)
    ],
    env: { REQUESTS_CA_BUNDLE: target.caFile }
  }),
  // one `certbot renew` goes over every certificate it holds (renewal 30 days before expiry)
  renewAll: (target, workdir) => [{
    command: "certbot",
    args: [
      "renew", "--non-interactive",
      "--config-dir", path.join(workdir, "config"),
      "--work-dir", path.join(workdir, "work"),
      "--logs-dir", path.join(workdir, "logs")
    ],
    env: { REQUESTS_CA_BUNDLE: target.caFile }
  }]
}

const acmeClientScript = path.join(root, "bench", "src", "peers", "acme-client-issue.mjs")
const acmeClientRenewScript = path.join(root, "bench", "src", "peers", "acme-client-renew.mjs")

/**
 * @since 0.1.0
 * @category clients
 */
export const acmeClient: Client = {
  id: "acme-client",
  label: "acme-client (npm)",
  // a library has no --version: its cold start is node importing it
  version: {
    command: process.execPath,
    args: ["--input-type=module", "-e", "await import('acme-client')"],
    cwd: path.join(root, "bench")
  },
  issue: (target, workdir, name) => ({
    command: process.execPath,
    args: [acmeClientScript, target.directoryUrl, workdir, `${name}.example.com`, String(target.httpPort)],
    env: { NODE_EXTRA_CA_CERTS: target.caFile },
    cwd: path.join(root, "bench")
  }),
  // a library has no renew command either: a script that checks each stored certificate's expiry
  // with acme-client's own parser and would issue again the ones due (none are)
  renewAll: (target, workdir, names) => [{
    command: process.execPath,
    args: [acmeClientRenewScript, target.directoryUrl, workdir, String(target.httpPort), ...names.map((name) => `${name}.example.com`)],
    env: { NODE_EXTRA_CA_CERTS: target.caFile },
    cwd: path.join(root, "bench")
  }]
}

/**
 * @since 0.1.0
 * @category clients
 */
export const processClients: ReadonlyArray<Client> = [ours, lego, certbot, acmeClient]
