/**
 * Well-known CAs by name, with what each one requires, so that a configuration is checked against
 * its CA before any network call: External Account Binding required or not, the certificate key
 * types it issues for, the ACME profiles it offers, the profiles it retired, and the profiles under
 * which it issues for IP addresses.
 *
 * `ca.directory: zerossl` picks a preset's URL and constraints; `ca.preset: zerossl` with a
 * directory URL applies the constraints to another URL (a mirror, a proxy, or a test CA configured
 * the same way).
 *
 * What each CA accepts changes over time; these are the CAs' published constraints as of 2026. A
 * directory URL without `ca.preset` is checked against nothing but what the CA answers.
 *
 * @since 0.1.0
 */
import * as Arr from "effect/Array"
import * as Option from "effect/Option"
import type { KeyType } from "./CertificateKey.js"
import * as Identifier from "./Identifier.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface CaPreset {
  readonly name: string
  /** the CA's name for messages */
  readonly title: string
  readonly directory: string
  /** whether new accounts need External Account Binding credentials from the CA */
  readonly eab: "required" | "no"
  /** where the CA hands out EAB credentials, for the message when they are missing */
  readonly eabHint?: string | undefined
  /** the certificate key types the CA issues for */
  readonly keyTypes: ReadonlyArray<KeyType>
  /** the ACME profiles it offers (`undefined`: none) */
  readonly profiles?: ReadonlyArray<string> | undefined
  /** profiles it offered once and no longer does, with what to do instead */
  readonly retiredProfiles?: { readonly [profile: string]: string } | undefined
  /** IP address identifiers are issued only under these profiles (`undefined`: under any) */
  readonly ipProfiles?: ReadonlyArray<string> | undefined
  /** a test environment of the same CA, when there is one */
  readonly staging?: string | undefined
  /** the domains the CA recognises as its own in CAA records (RFC 8659), when its directory does not say */
  readonly caaIdentities: ReadonlyArray<string>
}

const allKeys: ReadonlyArray<KeyType> = ["ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096"]
const rsaKeys: ReadonlyArray<KeyType> = ["rsa-2048", "rsa-3072", "rsa-4096"]
const ecKeys: ReadonlyArray<KeyType> = ["ec-p256", "ec-p384"]
const letsEncryptProfiles = ["classic", "tlsserver", "shortlived"]
/**
 * Let's Encrypt in 2026: the TLS Client Authentication EKU left the classic profile on 11 February
 * 2026, and the tlsclient profile that kept it took no new users from 13 May 2026 and ended on
 * 8 July 2026; IP address certificates are issued under the shortlived profile only.
 */
const letsEncrypt2026 = {
  profiles: letsEncryptProfiles,
  retiredProfiles: {
    tlsclient:
      "Let's Encrypt retired the tlsclient profile in 2026 and no longer issues certificates with the TLS Client Authentication EKU: remove the profile (classic, tlsserver and shortlived are for servers) and get client certificates from a private CA"
  },
  ipProfiles: ["shortlived"]
}

/**
 * Every preset, by name.
 *
 * @since 0.1.0
 * @category constants
 */
export const all: ReadonlyArray<CaPreset> = [
  {
    name: "letsencrypt",
    caaIdentities: ["letsencrypt.org"],
    title: "Let's Encrypt",
    directory: "https://acme-v02.api.letsencrypt.org/directory",
    eab: "no",
    keyTypes: allKeys,
    ...letsEncrypt2026,
    staging: "letsencrypt-staging"
  },
  {
    name: "letsencrypt-staging",
    caaIdentities: ["letsencrypt.org"],
    title: "Let's Encrypt (staging)",
    directory: "https://acme-staging-v02.api.letsencrypt.org/directory",
    eab: "no",
    keyTypes: allKeys,
    ...letsEncrypt2026
  },
  {
    name: "zerossl",
    caaIdentities: ["sectigo.com", "zerossl.com"],
    title: "ZeroSSL",
    directory: "https://acme.zerossl.com/v2/DV90",
    eab: "required",
    eabHint: "generate them in the ZeroSSL dashboard under Developer > EAB Credentials",
    keyTypes: allKeys
  },
  {
    name: "google",
    caaIdentities: ["pki.goog"],
    title: "Google Trust Services",
    directory: "https://dv.acme-v02.api.pki.goog/directory",
    eab: "required",
    eabHint: "create them with `gcloud publicca external-account-keys create`",
    keyTypes: allKeys,
    staging: "google-staging"
  },
  {
    name: "google-staging",
    caaIdentities: ["pki.goog"],
    title: "Google Trust Services (staging)",
    directory: "https://dv.acme-v02.test-api.pki.goog/directory",
    eab: "required",
    eabHint: "create them with `gcloud publicca external-account-keys create` in the staging project",
    keyTypes: allKeys
  },
  {
    name: "buypass",
    caaIdentities: ["buypass.com"],
    title: "Buypass Go SSL",
    directory: "https://api.buypass.com/acme/directory",
    eab: "no",
    keyTypes: ["ec-p256", ...rsaKeys],
    staging: "buypass-test"
  },
  {
    name: "buypass-test",
    caaIdentities: ["buypass.com"],
    title: "Buypass Go SSL (test)",
    directory: "https://api.test4.buypass.no/acme/directory",
    eab: "no",
    keyTypes: ["ec-p256", ...rsaKeys]
  },
  {
    name: "sslcom-rsa",
    caaIdentities: ["ssl.com"],
    title: "SSL.com (RSA)",
    directory: "https://acme.ssl.com/sslcom-dv-rsa",
    eab: "required",
    eabHint: "find them in your SSL.com account under api credentials",
    keyTypes: rsaKeys
  },
  {
    name: "sslcom-ecc",
    caaIdentities: ["ssl.com"],
    title: "SSL.com (ECC)",
    directory: "https://acme.ssl.com/sslcom-dv-ecc",
    eab: "required",
    eabHint: "find them in your SSL.com account under api credentials",
    keyTypes: ecKeys
  }
]

/**
 * The names of the presets.
 *
 * @since 0.1.0
 * @category constants
 */
export const names: ReadonlyArray<string> = all.map((preset) => preset.name)

/**
 * @since 0.1.0
 * @category constructors
 */
export const find = (name: string): Option.Option<CaPreset> => Arr.findFirst(all, (preset) => preset.name === name)

/**
 * The preset a CA configuration stands for: its `preset`, else its `directory` when that is a
 * preset's name.
 *
 * @since 0.1.0
 * @category constructors
 */
export const forCa = (ca: { readonly directory: string; readonly preset?: string | undefined }): Option.Option<CaPreset> =>
  ca.preset !== undefined ? find(ca.preset) : find(ca.directory)

/**
 * A problem of a configuration with its CA: the path of the bad value and one line saying what to
 * do.
 *
 * @since 0.1.0
 * @category models
 */
export interface Problem {
  readonly path: ReadonlyArray<string | number>
  readonly message: string
}

/**
 * Checks a configuration against its CA's preset, before any network call: EAB credentials when
 * the CA requires them, each certificate's key type, each profile (offered, not retired), and the
 * profile of a certificate for IP addresses.
 *
 * @since 0.1.0
 * @category combinators
 */
export const check = (
  config: {
    readonly ca: { readonly directory: string; readonly preset?: string | undefined }
    readonly certificates: ReadonlyArray<{
      readonly name: string
      readonly key: KeyType
      readonly profile?: string | undefined
      readonly domains?: ReadonlyArray<string> | undefined
    }>
  },
  options: { readonly hasEab: boolean }
): ReadonlyArray<Problem> =>
  Option.match(forCa(config.ca), {
    onNone: () => [],
    onSome: (preset) => {
      const problems: Array<Problem> = []
      if (preset.eab === "required" && !options.hasEab) {
        problems.push({
          path: ["ca", "eab"],
          message: `${preset.title} requires External Account Binding: add \`eab: { kid, hmacKey }\` under ca (or set ACME_EAB_KID and ACME_EAB_HMAC_KEY)${
            preset.eabHint !== undefined ? `; ${preset.eabHint}` : ""
          }`
        })
      }
      for (const [index, certificate] of config.certificates.entries()) {
        if (!preset.keyTypes.includes(certificate.key)) {
          problems.push({
            path: ["certificates", index, "key"],
            message: `${preset.title} does not issue certificates for ${certificate.key} keys: use ${
              preset.keyTypes.join(", ")
            }`
          })
        }
        const retired = certificate.profile === undefined ? undefined : preset.retiredProfiles?.[certificate.profile]
        const addresses = (certificate.domains ?? []).filter((domain) => Identifier.isIpAddress(domain.trim()))
        if (retired !== undefined) {
          problems.push({ path: ["certificates", index, "profile"], message: retired })
        } else if (
          addresses.length > 0 && preset.ipProfiles !== undefined &&
          !preset.ipProfiles.includes(certificate.profile ?? "")
        ) {
          problems.push({
            path: ["certificates", index, "profile"],
            message: `${preset.title} issues certificates for IP addresses (${addresses.join(", ")}) only with the ${
              preset.ipProfiles.join(" or ")
            } profile: set \`profile: ${preset.ipProfiles[0]}\`, or give the IP addresses a certificate of their own that has it`
          })
        } else if (certificate.profile !== undefined && !(preset.profiles ?? []).includes(certificate.profile)) {
          problems.push({
            path: ["certificates", index, "profile"],
            message: preset.profiles === undefined
              ? `${preset.title} offers no ACME profiles: remove profile`
              : `${preset.title} does not offer the profile "${certificate.profile}": use ${preset.profiles.join(", ")}`
          })
        }
      }
      return problems
    }
  })
