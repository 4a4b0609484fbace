#!/usr/bin/env bash
# Repeat-caller rate limiting (issue 15), on the real `bootstrap` against a
# fresh dynalite (benches/rate_limit.rs): warm wall time and CPU per call
# with RATE_LIMIT_CALLS off versus on, interleaved call by call, next to a
# bare GetItem and UpdateItem; then 4 processes hammering one number, whose
# counter must equal the calls made, with exactly the limit let through
# (exits 1 if not). Usage: bench/rate-limit.sh
# Sizes: BENCH_RL_ROUNDS, BENCH_RL_PER_ROUND, BENCH_RL_WARM_UP,
# BENCH_RL_CONTAINERS, BENCH_RL_CALLS_EACH, BENCH_RL_LIMIT (see the bench).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
build --bin bootstrap --bin blocklist
start_dynalite "${BENCH_PORT:-18024}"
seed_blocklist
export BENCH_BOOTSTRAP=$bin/bootstrap
if [ "$bench_profile" = release ]; then
  cargo bench --locked --quiet --bench rate_limit
else
  # The smoke run: a debug build of the bench, as of the bootstrap.
  cargo bench --locked --quiet --profile dev --bench rate_limit
fi
