#!/usr/bin/env bash
# Set up (scripts/setup.sh), then run the main job on a local CA: `acme demo` starts Pebble, renews
# two certificates (http-01 and dns-01) into a temporary folder, shows `acme status`, runs `acme renew`
# again to show that it is a no-op, and cleans up.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
[ -x "$root/.cache/bin/pnpm" ] && export PATH="$root/.cache/bin:$PATH"
exec pnpm --silent acme demo "$@"
