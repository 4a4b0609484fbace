#!/usr/bin/env bash
# The main job, locally: starts a local DynamoDB-compatible server (dynalite),
# creates and seeds the blocklist with the `blocklist` CLI, then sends every
# sample Connect event in events/ through the real `bootstrap` handler and
# prints each answer. Leaves nothing running.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
port=${DEMO_PORT:-18010}
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fi

scripts/local-dynamodb.sh install dynalite
echo "==> building bootstrap and blocklist"
cargo build --locked --quiet --bin bootstrap --bin blocklist --bin report

log=$(mktemp); lambda_log=$(mktemp)
node tools/dynalite/node_modules/dynalite/cli.js --host 127.0.0.1 --port "$port" \
  --createTableMs 0 --deleteTableMs 0 --updateTableMs 0 >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$log" "$lambda_log"' EXIT
for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.2; done

# Local servers accept any credentials; the SDK only needs some to sign with.
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$port
export TABLE_NAME=BlockedPhoneNumbers AUDIT_TABLE_NAME=BlockedPhoneNumbersAudit BLOCKLIST_ACTOR=demo

echo "==> dynalite on $AWS_ENDPOINT_URL_DYNAMODB; creating and seeding the tables"
target/debug/blocklist init
target/debug/blocklist import events/demo-blocklist.csv
target/debug/blocklist list --include-expired

echo
echo "==> sample Connect events through the bootstrap handler (BLOCK_ANONYMOUS=false, FAIL_MODE=open)"
lookups=$(ls events/*.json | grep -v report-caller)
# shellcheck disable=SC2086
target/debug/bootstrap --event $lookups 2>"$lambda_log" | while IFS=$'\t' read -r file answer; do
  printf '%-34s %s\n' "$(basename "$file")" "$answer"
done

echo
echo "==> the same anonymous call with BLOCK_ANONYMOUS=true"
BLOCK_ANONYMOUS=true target/debug/bootstrap --event events/anonymous-call.json 2>>"$lambda_log" | cut -f2

echo
echo "==> an agent reports the caller of events/report-caller.json (the report function), then an admin approves"
target/debug/report --event events/report-caller.json 2>>"$lambda_log" | cut -f2
target/debug/blocklist pending
target/debug/bootstrap --event events/report-caller.json 2>>"$lambda_log" | cut -f2
target/debug/blocklist approve +14155550177 --reason "abusive caller, confirmed"
target/debug/bootstrap --event events/report-caller.json 2>>"$lambda_log" | cut -f2

echo
echo "==> the Lambda's decision log line for the blocked call (numbers masked)"
grep -m1 '"is_blocked":true' "$lambda_log" || true
