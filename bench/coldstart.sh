#!/usr/bin/env bash
# Cold start: the release `bootstrap` started RUNS times (default 20) as a
# fresh process against a local Lambda Runtime API (harness/src/runtime_api.rs)
# with one blocked-call event queued; dynalite serves the rules and the lookup.
# Prints exec → first answer, exec → ready, and the init parts the function
# logs (config, SDK client, phone metadata, rules), and the binary size.
# Usage: bench/coldstart.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
runs=${1:-20}
build --bin bootstrap --bin blocklist
build -p blocklist-harness --bin coldstart
ls -l "$bin"/bootstrap | awk '{printf "%s bootstrap (%s): %d bytes (%.1f MiB)\n", "'"$bench_profile"'", "'"$(uname -m)"'", $5, $5/1048576}'
start_dynalite "${BENCH_PORT:-18021}"
seed_blocklist
RUST_LOG=info "$bin"/coldstart "$bin"/bootstrap "$runs"
