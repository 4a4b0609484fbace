#!/usr/bin/env bash
# Load and memory: INVOCATIONS events (default 10,000) through a local Lambda
# Runtime API to the release `bootstrap`, with the fault proxy (passing
# everything) between it and dynalite: once with 1 process (its RSS sampled
# ten times over the run: peak and growth), then with 2 and 4 processes
# sharing the work, for the highest rate this machine gives. Every answer is
# checked; any failure or lost invocation fails the script.
# Usage: bench/load.sh [INVOCATIONS] [PROCESS-COUNTS...]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
invocations=${1:-10000}
shift || true
counts=("${@:-1 2 4}")
build --bin bootstrap --bin blocklist
build -p blocklist-harness --bin load
start_dynalite "${BENCH_PORT:-18023}"
seed_blocklist
export RUST_LOG=warn
for processes in ${counts[*]}; do
  "$bin"/load "$bin"/bootstrap "$invocations" "$processes" --proxy
done
