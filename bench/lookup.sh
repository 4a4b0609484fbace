#!/usr/bin/env bash
# Warm latency: the handler's answer versus a bare GetItem on the same fresh
# dynalite, interleaved call by call (p50/p90/p99), with no rules and with
# 10,000 prefix rules + 1,000 allow entries loaded. Usage: bench/lookup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
start_dynalite "${BENCH_PORT:-18020}"
cargo bench --locked --bench lookup
