/**
 * The commented configuration `acme init` writes: every key, with its default and an example.
 * It decodes with `RenewalConfig` as it is, and so does {@link withExamples}, the same file with
 * every commented-out example switched on (tests check both).
 *
 * @since 0.1.0
 */

/**
 * An optional example: YAML lines at an indentation, written commented out (`<indent># key: ...`)
 * unless `enabled`.
 */
const example = (enabled: boolean, indent: string, yaml: string): string =>
  yaml
    .split("\n")
    .map((line) => enabled ? `${indent}${line}` : `${indent}# ${line}`)
    .join("\n")

const render = (enabled: boolean): string => {
  const optional = (indent: string, yaml: string) => example(enabled, indent, yaml)
  return `# Configuration of the \`acme\` command (docs/cli.md, docs/configuration.md).
#
# Check it:   acme status
# Try it:     acme renew --dry-run
# Then run \`acme renew\` from cron or a systemd timer, e.g. twice a day: it renews only what is due.
#
# Relative paths in this file are relative to the folder this file is in.
# A secret can be written as the value itself or as { env: NAME }: read from that environment
# variable when acme starts (keep secrets out of this file that way).

# The certificate authority (CA).
ca:
  # A directory URL (https://...), or a preset:
  #   letsencrypt           https://acme-v02.api.letsencrypt.org/directory
  #   letsencrypt-staging   https://acme-staging-v02.api.letsencrypt.org/directory
  # Start with letsencrypt-staging (its certificates are not trusted by browsers, its rate limits
  # are generous), then switch to letsencrypt once \`acme renew\` works.
  directory: letsencrypt-staging

  # Extra root certificates to trust for the CA's own HTTPS (a private CA): PEM file paths or PEM
  # text. Default: none (the system's roots only).
${optional("  ", `trust:\n  - ${enabled ? "|\n    -----BEGIN CERTIFICATE-----\n    MIIB\n    -----END CERTIFICATE-----" : "/etc/ssl/certs/my-private-ca.pem"}`)}

  # External Account Binding, when the CA requires it (it gives you a key id and an HMAC key).
  # Default: none.
${optional("  ", "eab:\n  kid: { env: ACME_EAB_KID }\n  hmacKey: { env: ACME_EAB_HMAC_KEY }")}

  # The common name of the root to prefer when the CA offers several chains; each certificate can
  # override it. Default: the CA's default chain.
${optional("  ", "preferredChain: ISRG Root X1")}

# Your account at the CA; the first \`acme renew\` creates it.
account:
  # Where the CA may send notices. Default: no contact.
  email: hostmaster@example.org
  # The account key's algorithm: ES256, ES384 or RS256. Default: ES256.
${optional("  ", "key: ES256")}
  # Tells several accounts at one CA apart (letters, digits, _ and -). Default: default.
${optional("  ", "name: default")}
  # Agree to the CA's terms of service when creating the account. Default: true.
${optional("  ", "agreeToTerms: true")}

# Where certificates, keys, accounts and run records are kept (created when needed):
#   <path>/live/<name>/cert.pem chain.pem fullchain.pem privkey.pem (mode 0600)
storage:
  path: ./acme-data

# When and how hard to try. Every key is optional: uncomment \`renewal:\` with the ones you set.
#   daysBefore: renew this many days before expiry. Default: when a third of the lifetime is
#     left, or when the CA's renewal window (ARI) says so.
#   maxAttempts: attempts per certificate and run, the first included (1 to 20). Default: 5.
#   maxWait: the longest single wait between attempts ("90 seconds", "10 minutes", "1 hour"). A CA
#     that asks for a longer wait postpones that certificate; the next run tries again.
#     Default: 1 hour.
#   maxRunTime: how long a whole run may take; then what is left is postponed, and the next run
#     goes on where it stopped. Default: 30 minutes.
${optional("", "renewal:\n  daysBefore: 30\n  maxAttempts: 5\n  maxWait: 1 hour\n  maxRunTime: 30 minutes")}

# The certificates to keep valid.
#   name: the folder live/<name>/ and what --only and --name refer to: 1 to 64 letters, digits,
#     ".", "_" or "-", not starting with ".".
#   domains: DNS names or IP addresses; a wildcard (*.example.org) needs dns-01.
#   key: ec-p256, ec-p384, rsa-2048, rsa-3072 or rsa-4096. Default: ec-p256.
#   reuseKey: keep the same key across renewals. Default: false (a new key each time).
#   profile: an ACME profile, used when the CA offers it (e.g. Let's Encrypt's "shortlived").
#   preferredChain: as ca.preferredChain, for this certificate.
#   deployHook: a shell command run once the new files are in place, with ACME_CERT_NAME,
#     ACME_DOMAINS, ACME_SERIAL, ACME_CERT_PATH, ACME_CHAIN_PATH, ACME_FULLCHAIN_PATH,
#     ACME_KEY_PATH and ACME_LIVE_DIR in its environment.
#   challenge: how to prove control of the domains; one of the three types below.
certificates:
  # http-01: the CA fetches http://<domain>/.well-known/acme-challenge/<token> on port 80.
  # Either acme writes that file into the web root of a web server that runs already (webroot),
  # or it answers with a small server of its own (port, default 80; address, default all).
  - name: web
    domains: [example.org, www.example.org]
    key: ec-p256
${optional("    ", "reuseKey: false\nprofile: classic")}
    challenge:
      type: http-01
      webroot: /var/www/html
      # or, instead of webroot, a server of acme's own (not both):
      # port: 80
      # address: 0.0.0.0
    deployHook: systemctl reload nginx

  # tls-alpn-01: the CA connects to port 443 of the domain; acme answers with a TLS server of its
  # own while it renews (port, default 443; address, default all): the port must be free then.
${optional("  ", "- name: mail\n  domains: [mail.example.org]\n  challenge:\n    type: tls-alpn-01\n    port: 443\n  deployHook: systemctl reload postfix")}

  # dns-01: a TXT record _acme-challenge.<domain>, set through a DNS provider; the only way to a
  # wildcard. Provider: challtestsrv (Pebble's test DNS server, for tests and \`acme demo\`).
${optional("  ", "- name: wildcard\n  domains: [\"*.example.org\", example.org]\n  key: ec-p384\n  preferredChain: ISRG Root X2\n  challenge:\n    type: dns-01\n    provider: challtestsrv\n    url: http://127.0.0.1:8055")}
`
}

/**
 * The file `acme init` writes.
 *
 * @since 0.1.0
 * @category constants
 */
export const text: string = render(false)

/**
 * The same file with every commented-out example switched on (for tests: it must decode too).
 *
 * @since 0.1.0
 * @category constants
 */
export const withExamples: string = render(true)
