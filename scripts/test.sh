#!/usr/bin/env bash
# Set up (scripts/setup.sh), then type-check, lint and run every test: unit tests, and integration
# and end-to-end tests against Pebble started on free loopback ports.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
[ -x "$root/.cache/bin/pnpm" ] && export PATH="$root/.cache/bin:$PATH"
pnpm run check
