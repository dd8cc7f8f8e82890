// Builds dist/deb/acme-effect_<version>_<arch>.deb with dpkg-deb (`pnpm build:deb` at the root).
// The package is `acme-effect`, not `acme`: Debian's `acme` is a 6502 cross assembler, which also
// installs /usr/bin/acme (hence Conflicts: acme, so that dpkg refuses rather than overwrites).
//
//   /usr/bin/acme                              the single executable (scripts/build-sea.mjs): no nodejs dependency
//   /etc/acme/acme.yaml.example                `acme init`'s commented starter configuration, storage in /var/lib/acme
//   /usr/lib/systemd/system/acme.service       hardened oneshot `acme renew --config /etc/acme/acme.yaml`
//   /usr/lib/systemd/system/acme.timer         twice a day; installed disabled
//   /usr/share/doc/acme-effect/                README.md, copyright
//   /var/lib/acme (0700)                       made by postinst, never owned by dpkg: a purge keeps it
//
// The package's files and maintainer scripts are in packaging/debian/. Prints the .deb's path on stdout.
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const here = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const packaging = path.join(here, "packaging", "debian")
const folder = path.join(here, "dist", "deb")

const { version } = JSON.parse(fs.readFileSync(path.join(here, "package.json"), "utf8"))

const architecture = () => execFileSync("dpkg", ["--print-architecture"], { encoding: "utf8" }).trim()

/** the starter configuration of `acme init`, made for the package: storage in /var/lib/acme */
const exampleConfiguration = (acme) => {
  const scratch = fs.mkdtempSync(path.join(folder, "init-"))
  try {
    const file = path.join(scratch, "acme.yaml")
    execFileSync(acme, ["init", "--config", file], { stdio: ["ignore", "ignore", "pipe"] })
    const starter = fs.readFileSync(file, "utf8")
    const storage = "storage:\n  path: ./acme-data\n"
    if (!starter.includes(storage)) {
      throw new Error(`acme init's starter configuration no longer contains ${JSON.stringify(storage)}: update build-deb.mjs`)
    }
    return [
      "# An example configuration for acme, installed by the acme-effect Debian package.",
      "#",
      "# Copy it to /etc/acme/acme.yaml, edit it, check it with `acme status --config /etc/acme/acme.yaml`",
      "# and `acme renew --dry-run --config /etc/acme/acme.yaml`, then enable the timer that runs",
      "# `acme renew` twice a day: systemctl enable --now acme.timer",
      "#",
      "# acme.service may write only to /var/lib/acme: for a webroot (http-01) or another storage path,",
      "# add it with `systemctl edit acme.service` ([Service] ReadWritePaths=/var/www/html).",
      "",
      starter.replace(storage, "storage:\n  path: /var/lib/acme\n")
    ].join("\n")
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true })
  }
}

/** debian/copyright: ours (MIT), and what usr/bin/acme embeds */
const copyright = () => {
  const license = fs.readFileSync(path.join(here, "LICENSE"), "utf8").trim().split("\n")
    .map((line) => (line.length === 0 ? " ." : ` ${line}`)).join("\n")
  return [
    "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/",
    "Upstream-Name: acme-effect",
    "Comment: usr/bin/acme is a Node.js single executable application: it contains the node binary",
    ` (Node.js ${process.version}, MIT and the licenses of its bundled dependencies, listed in Node.js's`,
    " LICENSE file: https://github.com/nodejs/node/blob/main/LICENSE) and the npm packages bundled",
    " into the acme command (MIT, ISC, Apache-2.0 and BSD licenses; see apps/cli/package.json).",
    "",
    "Files: *",
    "License: MIT",
    license,
    ""
  ].join("\n")
}

const install = (root, target, contents, mode) => {
  const file = path.join(root, target)
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 })
  fs.writeFileSync(file, contents)
  fs.chmodSync(file, mode)
}

export const build = async () => {
  const sea = await import(pathToFileURL(path.join(here, "scripts", "build-sea.mjs")).href)
  await sea.ensureBuilt()
  const arch = architecture()
  fs.mkdirSync(folder, { recursive: true })
  const root = fs.mkdtempSync(path.join(folder, "root-"))
  try {
    fs.chmodSync(root, 0o755)
    install(root, "usr/bin/acme", fs.readFileSync(sea.output), 0o755)
    install(root, "etc/acme/acme.yaml.example", exampleConfiguration(sea.output), 0o644)
    for (const unit of ["acme.service", "acme.timer"]) {
      install(root, `usr/lib/systemd/system/${unit}`, fs.readFileSync(path.join(packaging, unit)), 0o644)
    }
    install(root, "usr/share/doc/acme-effect/README.md", fs.readFileSync(path.join(here, "README.md")), 0o644)
    install(root, "usr/share/doc/acme-effect/copyright", copyright(), 0o644)
    for (const script of ["postinst", "prerm", "postrm"]) {
      install(root, `DEBIAN/${script}`, fs.readFileSync(path.join(packaging, script)), 0o755)
    }
    install(root, "DEBIAN/conffiles", "/etc/acme/acme.yaml.example\n", 0o644)
    const installedKb = Math.ceil(
      fs.statSync(path.join(root, "usr/bin/acme")).size / 1024 + 16
    )
    install(
      root,
      "DEBIAN/control",
      [
        "Package: acme-effect",
        "Conflicts: acme",
        `Version: ${version}`,
        `Architecture: ${arch}`,
        "Maintainer: acme-effect maintainers <maintainers@acme-effect.invalid>",
        `Installed-Size: ${installedKb}`,
        // what the embedded node binary links against
        "Depends: libc6 (>= 2.28), libstdc++6, libgcc-s1",
        "Section: admin",
        "Priority: optional",
        "Description: ACME (RFC 8555) client that keeps TLS certificates valid",
        " acme renews certificates from Let's Encrypt or any RFC 8555 CA before they",
        " expire: http-01, dns-01 and tls-alpn-01 challenges, ARI, crash-safe renewals",
        " that resume where they stopped, atomic certbot-style files and deploy hooks.",
        " A systemd timer (installed disabled) runs `acme renew` twice a day.",
        ""
      ].join("\n"),
      0o644
    )
    const deb = path.join(folder, `acme-effect_${version}_${arch}.deb`)
    // gzip: a few seconds for the ~100 MB executable, where xz would take a minute
    execFileSync("dpkg-deb", ["--root-owner-group", "-Zgzip", "--build", root, deb], { stdio: ["ignore", "ignore", "inherit"] })
    return deb
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const deb = await build()
  process.stdout.write(`${deb}\n`)
}
