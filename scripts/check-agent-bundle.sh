#!/usr/bin/env bash
# The committed bundle of the agent workspace app (console/agent/agent.js)
# must be exactly what agent-app/ builds from its pinned lockfile: cargo
# build embeds the committed file and needs no Node, so CI rebuilds it here
# and fails on any difference (a source change not rebuilt, a hand edit, or
# a dependency that moved). Also fails on files in console/agent/ that git
# does not know.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/agent-app"

npm ci --no-audit --no-fund
npm run build
cd "$root"
if ! git diff --exit-code -- console/agent/; then
  echo "check-agent-bundle: console/agent/ differs from a fresh build of agent-app/ (run: cd agent-app && npm ci && npm run build, then commit)" >&2
  exit 1
fi
untracked=$(git ls-files --others --exclude-standard -- console/agent/)
if [ -n "$untracked" ]; then
  echo "check-agent-bundle: files in console/agent/ that are not committed: $untracked" >&2
  exit 1
fi
echo "check-agent-bundle: console/agent/agent.js is the build of agent-app/"
