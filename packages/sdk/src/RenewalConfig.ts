/**
 * What to renew, from where, and how: the decoded configuration the renewal pipeline runs on. The
 * CLI reads it from a JSON or YAML file; an embedding program can build it in code. Every field is
 * checked by a Schema whose messages name the path of the bad value.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Schema from "effect/Schema"
import * as CaPreset from "./CaPreset.js"
import { KeyType } from "./CertificateKey.js"
import { CertificateName } from "./CertificateName.js"
import * as Identifier from "./Identifier.js"
import { challengeMismatch, cleartextRefused } from "./internal/configChecks.js"
import { DurationText } from "./internal/durationText.js"
import * as Waits from "./Waits.js"

export { cleartextRefused, DurationText }

/**
 * Names of well-known CAs, usable instead of a directory URL.
 *
 * @since 0.1.0
 * @category models
 */
export const presets: { readonly [name: string]: string } = Object.fromEntries(
  CaPreset.all.map((preset) => [preset.name, preset.directory])
)

/**
 * A certificate's name (re-exported from the CertificateName module, where it is defined once).
 *
 * @since 0.1.0
 * @category schemas
 */
export { CertificateName }

/**
 * A DNS name or IP address as written in the config.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Domain = Schema.String.pipe(
  Schema.filter((text) =>
    Identifier.isIpAddress(text.trim()) || Identifier.isDnsName(text.trim().toLowerCase().replace(/\.$/, "")) ||
    `"${text}" is not a valid DNS name or IP address (examples: example.org, *.example.org, 192.0.2.1)`
  )
)

const Port = Schema.Int.pipe(
  Schema.between(1, 65535, { message: () => "a port is a whole number from 1 to 65535" })
)

/**
 * A secret: either the value itself, or `{ env: NAME }` to read it from an environment variable
 * when the configuration is loaded.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SecretSource = Schema.Union(
  Schema.String,
  Schema.Struct({ env: Schema.String.pipe(Schema.pattern(/^[A-Za-z_][A-Za-z0-9_]*$/)) })
)

/**
 * @since 0.1.0
 * @category models
 */
export type SecretSource = typeof SecretSource.Type

/**
 * http-01, answered by a server of our own on `port` (and `address`), or by files written into
 * the `webroot` of a web server that already runs.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Http01Challenge = Schema.Struct({
  type: Schema.Literal("http-01"),
  port: Schema.optional(Port),
  address: Schema.optional(Schema.String),
  webroot: Schema.optional(Schema.String)
}).pipe(
  Schema.filter((c) =>
    c.webroot === undefined || (c.port === undefined && c.address === undefined) ||
    "http-01 takes either webroot (files for a running web server) or port/address (our own server), not both"
  )
)

/**
 * The name of a provider (a DNS provider, a planner, a reporter, a storage type): a built-in one,
 * or one that the npm package named by `plugin` exports.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ProviderName = Schema.String.pipe(
  Schema.pattern(/^[a-z0-9][a-z0-9._-]{0,63}$/, {
    message: () => "a provider name: lower-case letters, digits, \".\", \"_\" and \"-\""
  })
)

/**
 * An npm package (or a path to a module, `./my-plugin.mjs`, relative to the configuration file)
 * that exports plugins.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PluginName = Schema.String.pipe(Schema.minLength(1, { message: () => "an npm package name or a path" }))

/** The provider's own options: every other key of the section, checked by the provider's Schema. */
const ProviderOptions = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/**
 * dns-01 through a DNS provider: `provider` names it (challtestsrv, rfc2136, cloudflare, route53,
 * acme-dns, or one of a `plugin`); `propagation` says how to wait for the record; every other key is
 * the provider's own option, checked by the provider's Schema when the configuration is loaded.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Dns01Challenge = Schema.Struct(
  {
    type: Schema.Literal("dns-01"),
    provider: ProviderName,
    plugin: Schema.optional(PluginName),
    propagation: Schema.optional(Schema.Unknown)
  },
  ProviderOptions
)

/**
 * dns-account-01 (draft-ietf-acme-dns-account-label): dns-01 at a record name of this ACME
 * account's own, `_<label>._acme-challenge.<name>`, so that several accounts (or systems) validate
 * the same name without touching each other's records, or `_acme-challenge.<name>` itself, which
 * may belong to someone else. The keys are dns-01's (`provider`, `plugin`, `propagation`, the
 * provider's options), and `draft` names the draft revision the CA follows for the record name
 * (`ChallengeResponse.DnsAccountDraft`): `dns-account-label` (the default, the current text) or
 * `scoped-dns-challenges` (its predecessor, which Pebble 2.6 implements).
 *
 * @since 0.1.0
 * @category schemas
 */
export const DnsAccount01Challenge = Schema.Struct(
  {
    type: Schema.Literal("dns-account-01"),
    provider: ProviderName,
    plugin: Schema.optional(PluginName),
    propagation: Schema.optional(Schema.Unknown),
    draft: Schema.optional(Schema.Literal("dns-account-label", "scoped-dns-challenges"))
  },
  ProviderOptions
)

/**
 * tls-alpn-01, answered by a TLS server of our own on `port` (and `address`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const TlsAlpn01Challenge = Schema.Struct({
  type: Schema.Literal("tls-alpn-01"),
  port: Schema.optional(Port),
  address: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 * @category schemas
 */
export const ChallengeConfig = Schema.Union(Http01Challenge, Dns01Challenge, DnsAccount01Challenge, TlsAlpn01Challenge)

/**
 * @since 0.1.0
 * @category models
 */
export type ChallengeConfig = typeof ChallengeConfig.Type

/**
 * One certificate to keep valid.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CertificateSpec = Schema.Struct({
  name: CertificateName,
  domains: Schema.NonEmptyArray(Domain),
  key: Schema.optionalWith(KeyType, { default: () => "ec-p256" as const }),
  /** keep the certificate key across renewals instead of a new one each time */
  reuseKey: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  /** an ACME profile, used when the CA offers it */
  profile: Schema.optional(Schema.String),
  /** common name of the root (top issuer) of the chain to prefer, when the CA offers several */
  preferredChain: Schema.optional(Schema.String),
  challenge: ChallengeConfig,
  /** a shell command run after the files are in place, with their paths in its environment */
  deployHook: Schema.optional(Schema.String)
}).pipe(
  // found when the configuration is read, not after an account and an order were made for nothing
  Schema.filter(challengeMismatch)
)

/**
 * @since 0.1.0
 * @category models
 */
export type CertificateSpec = typeof CertificateSpec.Type

/**
 * The CA. Which TLS roots to trust for the CA's own HTTPS is not said here but by the `HttpClient`
 * Layer the `AcmeProtocol` uses (`NodeAcmeHttpClient.layer({ trust })` from `@acme/platform-node`;
 * the `acme` command's configuration file has `ca.trust` for it).
 *
 * @since 0.1.0
 * @category schemas
 */
export const CaConfig = Schema.Struct({
  /** a directory URL, or a preset name (see `CaPreset`): letsencrypt, zerossl, google, ... */
  directory: Schema.String.pipe(
    Schema.filter((d) =>
      d in presets || /^https?:\/\//.test(d) && URL.canParse(d) ||
      `"${d}" is neither a directory URL (https://...) nor a preset (${Object.keys(presets).join(", ")})`
    )
  ),
  /** check the configuration against this preset's constraints while using the `directory` URL */
  preset: Schema.optional(
    Schema.String.pipe(
      Schema.filter((p) => p in presets || `"${p}" is not a preset: use one of ${Object.keys(presets).join(", ")}`)
    )
  ),
  /** allow an `http://` directory URL (signed requests in clear text): for a test CA on this machine only */
  insecure: Schema.optional(Schema.Boolean),
  /** External Account Binding credentials from the CA */
  eab: Schema.optional(Schema.Struct({ kid: SecretSource, hmacKey: SecretSource })),
  /** the default for every certificate's preferredChain */
  preferredChain: Schema.optional(Schema.String),
  /** how long one HTTP exchange with the CA may take, body included */
  requestTimeout: Schema.optionalWith(
    DurationText.pipe(Schema.filter((d) => Duration.toMillis(d) >= 1000 || "a request timeout of at least 1 second")),
    { default: () => Waits.defaultRequestTimeout }
  ),
  /** the largest answer body accepted from the CA, in bytes */
  maxBodyBytes: Schema.optionalWith(
    Schema.Int.pipe(
      Schema.between(16 * 1024, 64 * 1024 * 1024, { message: () => "a number of bytes from 16384 (16 KiB) to 67108864 (64 MiB)" })
    ),
    { default: () => Waits.defaultMaxBodyBytes }
  )
}).pipe(Schema.filter((ca) => cleartextRefused(ca)))

/**
 * @since 0.1.0
 * @category schemas
 */
export const AccountConfig = Schema.Struct({
  email: Schema.optional(
    Schema.String.pipe(Schema.pattern(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, { message: () => "expected an e-mail address" }))
  ),
  /** the account key's algorithm when one is created */
  key: Schema.optionalWith(Schema.Literal("ES256", "ES384", "RS256"), { default: () => "ES256" as const }),
  /** several accounts at one CA are told apart by name */
  name: Schema.optionalWith(
    Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_-]{1,64}$/, { message: () => "letters, digits, _ and - only" })),
    { default: () => "default" }
  ),
  /** agree to the CA's terms of service when creating the account */
  agreeToTerms: Schema.optionalWith(Schema.Boolean, { default: () => true })
})

/**
 * @since 0.1.0
 * @category schemas
 */
export const RenewalSettings = Schema.Struct({
  /** renew this many days before expiry instead of when a third of the lifetime is left */
  daysBefore: Schema.optional(Schema.Number.pipe(Schema.positive())),
  /** attempts per certificate and run, the first included */
  maxAttempts: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 20)), { default: () => Waits.defaultMaxAttempts }),
  /** the longest single wait between attempts; a CA asking for more postpones the certificate to the next run */
  maxWait: Schema.optionalWith(DurationText, { default: () => Waits.defaultMaxWait }),
  /** how long a whole run may take; then it is checkpointed and what is left is postponed to the next run */
  maxRunTime: Schema.optionalWith(
    DurationText.pipe(Schema.filter((d) => Duration.toMillis(d) >= 1000 || "a run time of at least 1 second")),
    { default: () => Waits.defaultMaxRunTime }
  ),
  /**
   * how long a run's lease on a certificate lasts unless renewed (every third of it): how long other
   * runs wait for a run that stopped without letting go (a host that died)
   */
  leaseTtl: Schema.optionalWith(
    DurationText.pipe(
      Schema.filter((ttl) => Duration.greaterThanOrEqualTo(ttl, Duration.seconds(1)) || "must be at least 1 second")
    ),
    { default: () => Waits.defaultLeaseTtl }
  )
})

/**
 * Where certificates, keys and accounts are kept: `type: file` (the default) in the folder `path`,
 * or a storage that a `plugin` provides (its other keys are its options). For the program that builds
 * the `Storage` Layer from the configuration (the `acme` command, which requires it): the renewal
 * pipeline itself only uses the `Storage` in context, and never reads this section.
 *
 * @since 0.1.0
 * @category schemas
 */
export const StorageConfig = Schema.Struct(
  {
    type: Schema.optionalWith(ProviderName, { default: () => "file" }),
    plugin: Schema.optional(PluginName),
    path: Schema.optional(Schema.String.pipe(Schema.minLength(1)))
  },
  ProviderOptions
).pipe(
  Schema.filter((storage) =>
    storage.type !== "file" || storage.path !== undefined ||
    {
      path: ["path"],
      message: "is required: add the folder for certificates, keys and accounts (relative to this file's folder, or absolute)"
    }
  )
)

/**
 * A planner or reporter: `provider` names it (deterministic, anthropic, openai, openai-compatible,
 * or one of a `plugin`); every other key (`model`, `baseUrl`, `apiKeyEnv`, ...) is the provider's.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ProviderConfig = Schema.Struct(
  { provider: ProviderName, plugin: Schema.optional(PluginName) },
  ProviderOptions
)

/**
 * The whole configuration.
 *
 * @since 0.1.0
 * @category schemas
 */
export const RenewalConfig = Schema.Struct({
  ca: CaConfig,
  account: Schema.optionalWith(AccountConfig, { default: () => Schema.decodeSync(AccountConfig)({}) }),
  /** optional here: a program that provides its own `Storage` Layer leaves it out */
  storage: Schema.optional(StorageConfig),
  /** who decides what to renew: the deterministic planner, or an advisory LLM over it */
  planner: Schema.optionalWith(ProviderConfig, { default: () => ({ provider: "deterministic" }) }),
  /** who writes the run's summary: the deterministic one, or an LLM's prose added to it */
  reporter: Schema.optionalWith(ProviderConfig, { default: () => ({ provider: "deterministic" }) }),
  renewal: Schema.optionalWith(RenewalSettings, { default: () => Schema.decodeSync(RenewalSettings)({}) }),
  certificates: Schema.NonEmptyArray(CertificateSpec).pipe(
    Schema.filter((certificates) => {
      const seen = new Set<string>()
      for (const [index, certificate] of certificates.entries()) {
        if (seen.has(certificate.name)) {
          return { path: [index, "name"], message: `the name "${certificate.name}" is used twice; names must be unique` }
        }
        seen.add(certificate.name)
      }
      return true
    })
  )
})

/**
 * @since 0.1.0
 * @category models
 */
export type RenewalConfig = typeof RenewalConfig.Type

/**
 * The directory URL a configured CA stands for.
 *
 * @since 0.1.0
 * @category combinators
 */
export const directoryUrl = (ca: { readonly directory: string }): string => presets[ca.directory] ?? ca.directory
