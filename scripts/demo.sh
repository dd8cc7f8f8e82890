#!/usr/bin/env bash
# Set up (scripts/setup.sh), then run the main job on a local CA: start Pebble, obtain a real
# certificate through the SDK and print where it went.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
[ -x "$root/.cache/bin/pnpm" ] && export PATH="$root/.cache/bin:$PATH"
exec pnpm --silent --filter @acme/examples issue-with-pebble "$root/.acme-demo"
