#!/usr/bin/env bash
# Every benchmark, then BENCHMARKS.md: the date, this machine, and each
# number against its target (bench/report.py). Full outputs are kept in
# target/bench-results/. About 15 minutes on 2 cores once built.
# Usage: bench/all.sh            (all of them)
#        bench/all.sh --smoke    (the runtime ones briefly on debug builds, no
#                                 BENCHMARKS.md: CI's check that they work)
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/bench-results
mkdir -p "$out"
run() { # name command...
  local name=$1; shift
  printf '\n==> %s\n' "$*"
  "$@" 2>&1 | tee "$out/$name.txt"
}
if [ "${1:-}" = --smoke ]; then
  export BENCH_PROFILE=${BENCH_PROFILE:-debug}
  out=target/bench-smoke
  mkdir -p "$out"
  run coldstart bench/coldstart.sh 3
  run load bench/load.sh 500 1 2
  # About 10 s once built: 2 x 50 calls each way, 4 x 50 counted (limit 70).
  run ratelimit env BENCH_RL_ROUNDS=2 BENCH_RL_PER_ROUND=50 BENCH_RL_WARM_UP=20 \
    BENCH_RL_CALLS_EACH=50 BENCH_RL_LIMIT=70 bench/rate-limit.sh
  run import bench/import-rate.sh 2000
  exit 0
fi
dirty=$(git status --porcelain --untracked-files=no | grep -q . && echo " (with uncommitted changes)" || true)
printf 'commit=%s%s\nstarted=%s\n' "$(git rev-parse --short HEAD)" "$dirty" "$(date -u '+%Y-%m-%d %H:%M')" >"$out/meta"
run size bench/size.sh
run coldstart bench/coldstart.sh 20
run lookup bench/lookup.sh
run ratelimit bench/rate-limit.sh
run load bench/load.sh 10000 1 2 4
run normalize cargo bench --locked --bench normalize
run import bench/import-rate.sh 100000
python3 bench/report.py "$out" >BENCHMARKS.md
echo "wrote BENCHMARKS.md"
