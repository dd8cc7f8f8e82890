#!/usr/bin/env bash
# Best-effort download of a Pebble that offers ARI (`renewalInfo` in the directory).
#
# Debian bookworm's `pebble` (2.4) has no ARI; Debian trixie ships 2.6, which has it (but no profiles yet).
# This script fetches trixie's `pebble` .deb into <repo>/.cache/pebble-ari/ WITHOUT touching the
# system's apt configuration: it points apt-get at a throw-away sources.list / lists / cache directory,
# the Release file is verified against Debian's archive keyring (signed-by) and the .deb against the
# verified package index. The package is then unpacked with `dpkg-deb -x` (nothing is installed).
#
# @acme/testing's `ariPebbleBinary` looks for <repo>/.cache/pebble-ari/usr/bin/pebble (or $PEBBLE_ARI_BIN).
#
# Always exits 0: when it cannot fetch (no network, not Debian, ...) it prints a one-line notice and
# the ARI tests skip themselves (under CI=true they fail). Idempotent: does nothing when the binary is already there.
set -u

suite="trixie"
keyring="/usr/share/keyrings/debian-archive-keyring.gpg"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/.cache/pebble-ari"
bin="$dest/usr/bin/pebble"

notice() {
  echo "fetch-pebble-ari: $*"
  exit 0
}

if [ -x "$bin" ]; then
  notice "already present: $bin"
fi

for tool in apt-get dpkg-deb; do
  command -v "$tool" >/dev/null 2>&1 || notice "skipped: '$tool' not found (needs a Debian-based system); ARI tests will be skipped (under CI=true: fail)"
done
[ -r "$keyring" ] || notice "skipped: $keyring not found (apt-get install -y debian-archive-keyring); ARI tests will be skipped (under CI=true: fail)"

tmp="$(mktemp -d)" || notice "skipped: cannot create a temporary directory"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/stage"
: >"$tmp/status"
echo "deb [signed-by=$keyring] $mirror $suite main" >"$tmp/sources.list"

apt_opts=(
  -o "Dir::Etc::SourceList=$tmp/sources.list"
  -o "Dir::Etc::SourceParts=/dev/null"
  -o "Dir::Etc::Preferences=/dev/null"
  -o "Dir::Etc::PreferencesParts=/dev/null"
  -o "Dir::State::Lists=$tmp/lists"
  -o "Dir::Cache=$tmp/cache"
  -o "Dir::State::status=$tmp/status"
  -o "APT::Default-Release="
)

log="$tmp/apt.log"
# apt-get update exits 0 even when it could not fetch anything: check that an index arrived.
apt-get "${apt_opts[@]}" update >"$log" 2>&1
if ! find "$tmp/lists" -maxdepth 1 -name '*_Packages*' | grep -q .; then
  notice "skipped: apt-get update for Debian $suite failed (no network?): $(grep -E '^(E|W):' "$log" | grep -v _apt | head -n 1)"
fi
if ! (cd "$tmp" && apt-get "${apt_opts[@]}" download "pebble/$suite") >>"$log" 2>&1; then
  notice "skipped: apt-get download pebble from Debian $suite failed: $(grep -E '^E:' "$log" | head -n 1)"
fi

deb="$(find "$tmp" -maxdepth 1 -name 'pebble_*.deb' | head -n 1)"
[ -n "$deb" ] || notice "skipped: no pebble .deb was downloaded"
version="$(dpkg-deb -f "$deb" Version 2>/dev/null)"

dpkg-deb -x "$deb" "$tmp/stage" || notice "skipped: dpkg-deb -x failed for $deb"
[ -x "$tmp/stage/usr/bin/pebble" ] || notice "skipped: $deb contains no usr/bin/pebble"

# Move into place only once complete, so an interrupted run never looks "already present".
mkdir -p "$root/.cache" && rm -rf "$dest" && mv "$tmp/stage" "$dest" || notice "skipped: cannot write $dest"
echo "fetch-pebble-ari: Debian $suite pebble $version unpacked; binary: $bin"
