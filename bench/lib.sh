# Sourced by the bench scripts (not run on its own): the build profile, a
# fresh dynalite on 127.0.0.1 for one benchmark, stopped when the script
# exits, and the environment that points the SDK (and so the binaries) at it.

# BENCH_PROFILE=debug runs the scripts on debug builds: CI's smoke run checks
# that they work without paying for an LTO build. Numbers come from release.
bench_profile=${BENCH_PROFILE:-release}
bin=target/$bench_profile

# build ARGS...: cargo build in the bench profile.
build() {
  if [ "$bench_profile" = release ]; then
    cargo build --locked --release --quiet "$@"
  else
    cargo build --locked --quiet "$@"
  fi
}

# start_dynalite PORT: starts dynalite on PORT, or on a free port if PORT is
# taken, and exports AWS_ENDPOINT_URL_DYNAMODB and dummy credentials.
start_dynalite() {
  local port=$1
  scripts/local-dynamodb.sh install dynalite
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  fi
  node tools/dynalite/node_modules/dynalite/cli.js --host 127.0.0.1 --port "$port" \
    --createTableMs 0 --deleteTableMs 0 --updateTableMs 0 >/dev/null 2>&1 &
  bench_server=$!
  trap 'kill $bench_server 2>/dev/null || true' EXIT
  for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.2; done
  export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
  export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$port DYNALITE_ENDPOINT=http://127.0.0.1:$port
}

# seed_blocklist: creates the tables with the release `blocklist` and blocks
# +14155550123 (the number the benchmark events call from).
seed_blocklist() {
  "$bin/blocklist" init >/dev/null
  "$bin/blocklist" add +14155550123 --reason bench >/dev/null
}
