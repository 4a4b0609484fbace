#!/usr/bin/env bash
# Runs the whole test suite: installs and starts both local DynamoDB-compatible
# servers (dynalite and moto), runs `cargo test` over the workspace (the
# crate and harness/), then the console's browser test against dynalite
# (scripts/browser-test.sh: chromium, playwright-core), and stops the servers.
# Extra arguments go to `cargo test` (e.g. `scripts/test.sh phone`), and
# then the browser test is left out: the run is a filtered one.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

scripts/local-dynamodb.sh install
log=$(mktemp)
trap 'scripts/local-dynamodb.sh stop; rm -f "$log"' EXIT
scripts/local-dynamodb.sh start dynalite moto
eval "$(scripts/local-dynamodb.sh env)"

# Dummy credentials: the SDK signs requests, the local servers accept any.
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
status=0
cargo test --locked --workspace --no-fail-fast "$@" 2>&1 | tee "$log" || status=$?
if [ $# -eq 0 ]; then
  echo "==> console browser test (scripts/browser-test.sh)"
  scripts/browser-test.sh run || { echo "console browser test: FAILED"; [ "$status" -ne 0 ] || status=1; }
else
  echo "(console browser test left out: cargo test was given arguments)"
fi
# One closing line for the whole run, summed over cargo's per-binary results.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
