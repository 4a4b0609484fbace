#!/usr/bin/env bash
# Cold start: the release `bootstrap` started RUNS times (default 20) as a
# fresh process against a local Lambda Runtime API (harness/src/runtime_api.rs)
# with one blocked-call event queued; dynalite serves the rules and the lookup.
# Prints exec → first answer, exec → ready, the init parts the function logs
# (config, SDK client, phone metadata, rules), CPU time (init alone, exec to
# first answer, per warm call) and the binary size. Interleaved with those
# runs, the seed blog post's Python handler (bench/seed-python) is started the
# same way against the same dynalite, when boto3 can be imported, and the
# ratio of the first answers is printed.
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
# Lambda sets neither; where the machine does, the function would read the
# system's certificate store instead of its compiled-in roots (src/aws.rs).
unset SSL_CERT_FILE SSL_CERT_DIR
baseline=()
if python3 -c 'import boto3' 2>/dev/null; then
  # boto3 reads AWS_DEFAULT_REGION; Lambda sets it beside AWS_REGION.
  export AWS_DEFAULT_REGION=$AWS_REGION
  baseline=(--baseline "python3 bench/seed-python/bootstrap.py")
else
  echo "boto3 is not installed: the seed's Python handler is not measured (pip install boto3)"
fi
RUST_LOG=info "$bin"/coldstart "${baseline[@]}" "$bin"/bootstrap "$runs"
