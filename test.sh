#!/usr/bin/env bash
# Runs every test in the workspace. First installs what the real-browser test needs where it
# is missing: Debian's chromium, and the nats.ws npm package it loads. Extra arguments go to
# `cargo test` (CI passes --locked).
set -euo pipefail
cd "$(dirname "$0")"

chromium="${NATRIUM_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  echo "test.sh: installing chromium (Debian package) for tests/browser.rs"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi

browser=crates/natrium/tests/browser
if [ ! -f "$browser/node_modules/nats.ws/esm/nats.js" ]; then
  echo "test.sh: installing nats.ws (npm ci in $browser)"
  (cd "$browser" && npm ci --no-audit --no-fund --silent)
fi

exec cargo test --workspace "$@"
