#!/usr/bin/env bash
# The browser tests, in chromium through playwright-core:
# - the console (tests/browser/console.test.mjs): `blocklist serve` against
#   dynalite;
# - the agent workspace app (tests/browser/agent.test.mjs): the committed
#   console/agent/ page framed by a stand-in workspace
#   (tests/browser/agent-stand-in.js), against an in-memory API in the test.
#
#   scripts/browser-test.sh install   npm ci the pinned playwright-core (tests/browser/package-lock.json)
#   scripts/browser-test.sh [run]     install if needed, build the binaries, run the test
#
# `run` needs DYNALITE_ENDPOINT (scripts/test.sh starts dynalite and runs
# this after cargo test) and chromium: CHROMIUM, default /usr/bin/chromium
# (Debian: apt-get install chromium). playwright-core downloads no browser.
# CONSOLE_SCREENSHOTS=docs/screenshots also saves the main pages there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$root/tests/browser

install() {
  if [ ! -f "$dir/node_modules/playwright-core/package.json" ]; then
    echo "browser-test: installing playwright-core (npm ci, tests/browser/package-lock.json)" >&2
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
  fi
}

run() {
  install
  local chromium=${CHROMIUM:-/usr/bin/chromium}
  if [ ! -x "$chromium" ]; then
    echo "browser-test: no chromium at $chromium: apt-get install chromium, or set CHROMIUM" >&2
    exit 1
  fi
  if [ -z "${DYNALITE_ENDPOINT:-}" ]; then
    echo "browser-test: DYNALITE_ENDPOINT is not set: run scripts/test.sh (it starts dynalite)" >&2
    exit 1
  fi
  (cd "$root" && cargo build --locked --quiet --bin blocklist --bin report --bin bootstrap)
  CHROMIUM=$chromium node "$dir/console.test.mjs"
  echo "==> agent workspace app browser tests (scripts/browser-tests.sh)"
  CHROMIUM=$chromium "$root/scripts/browser-tests.sh"
}

case ${1:-run} in
  install) install ;;
  run) run ;;
  *) sed -n '2,12p' "$0" >&2; exit 2 ;;
esac
