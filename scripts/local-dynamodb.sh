#!/usr/bin/env bash
# Local DynamoDB-compatible servers for the tests and the demo.
#
#   scripts/local-dynamodb.sh install [dynalite] install dynalite (npm ci) and moto + cfn-lint + phonenumbers (pip), pinned
#   scripts/local-dynamodb.sh start [SERVER...]  start dynalite and/or moto (default: both) on 127.0.0.1
#   scripts/local-dynamodb.sh stop               stop what `start` started
#   scripts/local-dynamodb.sh env                print the endpoints as shell exports
#
# Ports: DYNALITE_PORT / MOTO_PORT name the port to use (if it is taken,
# `start` fails). Without them the default is used, 18000 / 18001 or
# DYNALITE_DEFAULT_PORT / MOTO_DEFAULT_PORT where a caller has its own, and a
# default port that is taken is replaced by a free one; `env` prints the ports used.
#
# State (pid, port and log files): LOCAL_DYNAMODB_STATE, default
# target/local-dynamodb. `start`, `stop` and `env` act on the servers of that
# directory only: a caller that gives its own (scripts/demo.sh, bench/lib.sh)
# neither reuses nor stops the servers of a test run going on beside it.
# LOCAL_DYNAMODB_QUIET=1 leaves out the progress lines (errors still print).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
state=${LOCAL_DYNAMODB_STATE:-$root/target/local-dynamodb}
dynalite_port=${DYNALITE_PORT:-${DYNALITE_DEFAULT_PORT:-18000}}
moto_port=${MOTO_PORT:-${MOTO_DEFAULT_PORT:-18001}}
mkdir -p "$state"

log() { echo "local-dynamodb: $*" >&2; }
info() { [ "${LOCAL_DYNAMODB_QUIET:-}" = 1 ] || log "$@"; }

# True when every `name==version` line of the requirements file is installed
# at that version (`pip show` exits 0 even when some are missing).
pinned_installed() {
  python3 - "$1" <<'PY'
import re, sys
from importlib import metadata
for line in open(sys.argv[1]):
    m = re.match(r"\s*([A-Za-z0-9_.-]+)(\[[^]]*\])?==([^\s#]+)", line)
    if not m:
        continue
    try:
        if metadata.version(m.group(1)) != m.group(3):
            sys.exit(1)
    except metadata.PackageNotFoundError:
        sys.exit(1)
PY
}

install() {
  if [ ! -x "$(command -v node)" ] || [ ! -x "$(command -v npm)" ]; then
    log "node and npm are needed for dynalite (apt-get install nodejs npm)"; exit 1
  fi
  if [ ! -f "$root/tools/dynalite/node_modules/dynalite/cli.js" ]; then
    log "installing dynalite (npm ci, tools/dynalite/package-lock.json)"
    (cd "$root/tools/dynalite" && npm ci --no-audit --no-fund --loglevel=error >&2)
  fi
  [ "${1:-}" = dynalite ] && return 0
  if ! pinned_installed "$root/tools/requirements-ci.txt" || ! command -v moto_server >/dev/null 2>&1; then
    log "installing moto, cfn-lint and phonenumbers (pip, tools/requirements-ci.txt)"
    python3 -m pip install --quiet --disable-pip-version-check -r "$root/tools/requirements-ci.txt" >&2
  fi
}

wait_for_port() { # name port pid
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; then return 0; fi
    if ! kill -0 "$3" 2>/dev/null; then log "$1 exited; its log:"; cat "$state/$1.log" >&2; exit 1; fi
    sleep 0.2
  done
  log "$1 did not listen on port $2 within 20 s; its log:"; cat "$state/$1.log" >&2; exit 1
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

any_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_one() { # name port command...
  local name=$1 port=$2; shift 2
  if [ -f "$state/$name.pid" ] && kill -0 "$(cat "$state/$name.pid")" 2>/dev/null; then
    info "$name already running (pid $(cat "$state/$name.pid"))"; return 0
  fi
  if ! port_free "$port"; then
    local explicit=${name^^}_PORT
    if [ -n "${!explicit:-}" ]; then log "port $port is taken; set $explicit to another"; exit 1; fi
    port=$(any_free_port)
    info "default port taken; $name uses $port"
  fi
  # The command line names the port as {PORT}.
  local args=()
  for a in "$@"; do args+=("${a//\{PORT\}/$port}"); done
  set -- "${args[@]}"
  echo "$port" >"$state/$name.port"
  setsid "$@" >"$state/$name.log" 2>&1 < /dev/null &
  echo $! >"$state/$name.pid"
  wait_for_port "$name" "$port" "$!"
  info "$name listening on http://127.0.0.1:$port"
}

start() {
  local servers=("$@")
  [ ${#servers[@]} -gt 0 ] || servers=(dynalite moto)
  for s in "${servers[@]}"; do
    case $s in
      dynalite) start_one dynalite "$dynalite_port" node "$root/tools/dynalite/node_modules/dynalite/cli.js" \
                  --host 127.0.0.1 --port '{PORT}' --createTableMs 0 --deleteTableMs 0 --updateTableMs 0 ;;
      moto) start_one moto "$moto_port" python3 "$root/tools/moto-server-atomic.py" -H 127.0.0.1 -p '{PORT}' ;;
      *) log "unknown server $s (dynalite or moto)"; exit 2 ;;
    esac
  done
}

stop() {
  for pidfile in "$state"/*.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
    rm -f "$pidfile" "${pidfile%.pid}.port"
  done
}

env_exports() {
  local d m
  d=$(cat "$state/dynalite.port" 2>/dev/null || echo "$dynalite_port")
  m=$(cat "$state/moto.port" 2>/dev/null || echo "$moto_port")
  echo "export DYNALITE_ENDPOINT=http://127.0.0.1:$d"
  echo "export MOTO_ENDPOINT=http://127.0.0.1:$m"
}

cmd=${1:-}; shift || true
case $cmd in
  install) install "$@" ;;
  start) start "$@" ;;
  stop) stop ;;
  env) env_exports ;;
  *) sed -n '2,20p' "$0" >&2; exit 2 ;;
esac
