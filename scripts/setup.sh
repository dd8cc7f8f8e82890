#!/usr/bin/env bash
# Everything a fresh Debian machine with Node.js 20 needs before `pnpm test` or `pnpm acme`:
#   - pnpm, at the version package.json pins (corepack when it works, else npm, else npx);
#   - Pebble and pebble-challtestsrv (Debian package `pebble`) for the tests and the demo;
#   - BIND 9 (Debian packages `bind9`, `bind9-dnsutils`) for the RFC 2136 / dns-01 tests of @acme/dns;
#   - PostgreSQL (Debian package `postgresql`) for the tests of @acme/storage-postgres: the tests start
#     throwaway servers of their own (initdb + postgres on a free loopback port, as `nobody` when run as
#     root, through setpriv from util-linux), never the system service;
#   - Chromium (Debian package `chromium`) for the status page test of `acme serve`;
#   - a Pebble that offers ARI (Debian trixie's 2.6), best effort, for the ARI tests;
#   - the workspace's dependencies, exactly as locked (among them Verdaccio and postject, which the
#     distribution tests use; dpkg-deb, which builds the .deb, comes with every Debian system).
# Safe to run again: each step is skipped when already done.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

say() { echo "setup: $*" >&2; }

# --- Node.js --------------------------------------------------------------------------------
command -v node >/dev/null 2>&1 || { say "Node.js 20 (>= 20.19) is required: apt-get install -y nodejs"; exit 1; }
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then say "Node.js $(node --version) is too old; install Node.js 20 (>= 20.19)"; exit 1; fi

# --- pnpm -----------------------------------------------------------------------------------
want_pnpm="$(node -p 'require("./package.json").packageManager.split("@")[1]')"
have_pnpm="$(pnpm --version 2>/dev/null || true)"
if [ "$have_pnpm" != "$want_pnpm" ]; then
  say "installing pnpm $want_pnpm"
  if COREPACK_ENABLE_DOWNLOAD_PROMPT=0 corepack enable pnpm >/dev/null 2>&1 &&
    COREPACK_ENABLE_DOWNLOAD_PROMPT=0 pnpm --version >/dev/null 2>&1 &&
    [ "$(pnpm --version 2>/dev/null)" = "$want_pnpm" ]; then
    :
  else
    # corepack's signature check fails for recent pnpm releases on Node 20's bundled corepack
    corepack disable pnpm >/dev/null 2>&1 || true
    npm install --global --no-fund --no-audit "pnpm@$want_pnpm" >/dev/null 2>&1 || true
  fi
fi
if [ "$(pnpm --version 2>/dev/null || true)" != "$want_pnpm" ]; then
  say "could not install pnpm globally; using npx pnpm@$want_pnpm"
  mkdir -p "$root/.cache/bin"
  printf '#!/bin/sh\nexec npx --yes "pnpm@%s" "$@"\n' "$want_pnpm" >"$root/.cache/bin/pnpm"
  chmod +x "$root/.cache/bin/pnpm"
  export PATH="$root/.cache/bin:$PATH"
fi

# --- Pebble ---------------------------------------------------------------------------------
if ! command -v pebble >/dev/null 2>&1 || ! command -v pebble-challtestsrv >/dev/null 2>&1; then
  say "installing Pebble (apt-get install -y pebble)"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq pebble >/dev/null
fi
# --- BIND 9 (named) for the dns-01 tests -----------------------------------------------------
if ! command -v named >/dev/null 2>&1 && [ ! -x /usr/sbin/named ]; then
  say "installing BIND 9 (apt-get install -y bind9 bind9-dnsutils)"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq bind9 bind9-dnsutils >/dev/null
fi
# --- PostgreSQL for the Postgres storage tests ------------------------------------------------
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
  say "installing PostgreSQL (apt-get install -y postgresql)"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq postgresql >/dev/null
fi
# PostgreSQL refuses to run as root: as root, the tests run it as this user (override with ACME_TEST_POSTGRES_USER)
if [ "$(id -u)" -eq 0 ] && ! id "${ACME_TEST_POSTGRES_USER:-nobody}" >/dev/null 2>&1; then
  say "user ${ACME_TEST_POSTGRES_USER:-nobody} is missing: creating it for the PostgreSQL tests"
  useradd --system --no-create-home --shell /usr/sbin/nologin "${ACME_TEST_POSTGRES_USER:-nobody}"
fi
command -v setpriv >/dev/null 2>&1 || { say "setpriv (util-linux) is required to run PostgreSQL as a user that is not root"; exit 1; }
# --- script (bsdutils, essential on Debian): the CLI's tests run acme on a pseudo-terminal through it ---
if ! command -v script >/dev/null 2>&1; then
  say "installing script (apt-get install -y bsdutils)"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq bsdutils >/dev/null
fi
# --- Chromium for the status page test of acme serve (driven by playwright-core) -----------------
if [ ! -x /usr/bin/chromium ]; then
  say "installing Chromium (apt-get install -y chromium)"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null
fi
bash "$root/scripts/fetch-pebble-ari.sh" >&2 || true

# --- dpkg-deb (pnpm build:deb, and the distribution tests) ------------------------------------
if ! command -v dpkg-deb >/dev/null 2>&1; then
  say "dpkg-deb is missing (it is part of Debian's dpkg): pnpm build:deb and the .deb test need it"
fi

# --- dependencies ---------------------------------------------------------------------------
pnpm install --frozen-lockfile --reporter=silent
say "ready (node $(node --version), pnpm $(pnpm --version), $(command -v pebble))"
