#!/usr/bin/env bash
# Browser tests of the agent workspace app (tests/browser/agent.test.mjs):
# the committed console/agent/ page in Debian's chromium, framed by a
# stand-in workspace (tests/browser/agent-stand-in.js), against an in-memory
# API server in the test. Needs node/npm and chromium (CHROMIUM=path to use
# another; CI installs Debian's with apt). Extra arguments go to node --test
# (e.g. --test-name-pattern=withheld).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/tests/browser"

chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  echo "browser-tests: no chromium at $chromium (apt-get install -y chromium, or set CHROMIUM)" >&2
  exit 1
fi
# playwright-core only (no browser download), pinned by package-lock.json.
npm ci --no-audit --no-fund --ignore-scripts
CHROMIUM=$chromium node --test "$@" agent.test.mjs
