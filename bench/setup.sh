#!/usr/bin/env bash
# What `pnpm bench` needs besides the workspace (scripts/setup.sh: pnpm, Pebble, dependencies):
#   - the peers: lego and certbot (Debian packages); acme-client is a devDependency of @acme/bench;
#   - GNU time (/usr/bin/time), which measures CPU seconds and peak RSS of each process.
# Safe to run again: installs only what is missing. Needs root (or sudo) for apt-get.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

bash "$root/scripts/setup.sh"

missing=()
command -v lego >/dev/null 2>&1 || missing+=(lego)
command -v certbot >/dev/null 2>&1 || missing+=(certbot)
[ -x /usr/bin/time ] || missing+=(time)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "bench/setup: installing ${missing[*]} (apt-get install -y)" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
echo "bench/setup: ready ($(lego --version 2>&1 | head -1); $(certbot --version 2>&1 | head -1); GNU time)" >&2
