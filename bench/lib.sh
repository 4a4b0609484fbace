# Sourced by the bench scripts (not run on its own): the build profile, a
# fresh dynalite on 127.0.0.1 for one benchmark (scripts/local-dynamodb.sh,
# with state of its own), stopped when the script exits, and the environment
# that points the SDK (and so the binaries) at it.

# BENCH_PROFILE=debug runs the scripts on debug builds: CI's smoke run checks
# that they work without paying for an LTO build. Numbers come from release.
bench_profile=${BENCH_PROFILE:-release}
bin=${CARGO_TARGET_DIR:-target}/$bench_profile

# build ARGS...: cargo build in the bench profile.
build() {
  if [ "$bench_profile" = release ]; then
    cargo build --locked --release --quiet "$@"
  else
    cargo build --locked --quiet "$@"
  fi
}

# start_dynalite PORT: starts dynalite on PORT, or on a free port if PORT is
# taken, and exports AWS_ENDPOINT_URL_DYNAMODB, DYNALITE_ENDPOINT and dummy
# credentials. Stopped on exit; a script with an EXIT trap of its own calls
# stop_dynalite from it.
start_dynalite() {
  export LOCAL_DYNAMODB_STATE LOCAL_DYNAMODB_QUIET=1
  LOCAL_DYNAMODB_STATE=$(mktemp -d)
  trap stop_dynalite EXIT
  scripts/local-dynamodb.sh install dynalite
  DYNALITE_DEFAULT_PORT=$1 scripts/local-dynamodb.sh start dynalite
  eval "$(scripts/local-dynamodb.sh env)"
  export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
  export AWS_ENDPOINT_URL_DYNAMODB=$DYNALITE_ENDPOINT
}

# stop_dynalite: stops what start_dynalite started.
stop_dynalite() {
  scripts/local-dynamodb.sh stop
  rm -rf "$LOCAL_DYNAMODB_STATE"
}

# seed_blocklist: creates the tables with the release `blocklist` and blocks
# +14155550123 (the number the benchmark events call from).
seed_blocklist() {
  "$bin/blocklist" init >/dev/null
  "$bin/blocklist" add +14155550123 --reason bench >/dev/null
}
