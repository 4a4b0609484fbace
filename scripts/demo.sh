#!/usr/bin/env bash
# The main job, locally: starts a local DynamoDB-compatible server (dynalite),
# creates and seeds the blocklist with the `blocklist` CLI, then sends every
# sample Connect event in events/ through the real `bootstrap` handler and
# prints each answer. Leaves nothing running.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# dynalite through scripts/local-dynamodb.sh, with state of its own: a test
# run beside the demo keeps its servers. DEMO_PORT: the port it prefers.
export LOCAL_DYNAMODB_STATE LOCAL_DYNAMODB_QUIET=1 DYNALITE_DEFAULT_PORT=${DEMO_PORT:-18010}
LOCAL_DYNAMODB_STATE=$(mktemp -d)
lambda_log=$(mktemp)
trap 'scripts/local-dynamodb.sh stop; rm -rf "$LOCAL_DYNAMODB_STATE" "$lambda_log"' EXIT

scripts/local-dynamodb.sh install dynalite
echo "==> building bootstrap and blocklist"
cargo build --locked --quiet --bin bootstrap --bin blocklist --bin report
bin=${CARGO_TARGET_DIR:-target}/debug

scripts/local-dynamodb.sh start dynalite
eval "$(scripts/local-dynamodb.sh env)"

# Local servers accept any credentials; the SDK only needs some to sign with.
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
export AWS_ENDPOINT_URL_DYNAMODB=$DYNALITE_ENDPOINT
export TABLE_NAME=BlockedPhoneNumbers AUDIT_TABLE_NAME=BlockedPhoneNumbersAudit BLOCKLIST_ACTOR=demo

echo "==> dynalite on $AWS_ENDPOINT_URL_DYNAMODB; creating and seeding the tables"
"$bin"/blocklist init
"$bin"/blocklist import events/demo-blocklist.csv
# An entry whose expiresAt has passed (events/expired-block-call.json): an
# import refuses an expiry in the past, as add does, so this one expires now.
# 4 s, not 1: the expiry is checked when the entry is written, after the
# claim, which can take a second on a loaded machine.
"$bin"/blocklist add +14155550142 --reason "temporary block" --expires 4s \
  --note "expired: shows that a passed expiresAt no longer blocks" >/dev/null
sleep 5
"$bin"/blocklist list --include-expired

echo
echo "==> sample Connect events through the bootstrap handler (BLOCK_ANONYMOUS=false, FAIL_MODE=open)"
lookups=$(ls events/*.json | grep -v report-caller)
# shellcheck disable=SC2086
"$bin"/bootstrap --event $lookups 2>"$lambda_log" | while IFS=$'\t' read -r file answer; do
  printf '%-34s %s\n' "$(basename "$file")" "$answer"
done

echo
echo "==> the same anonymous call with BLOCK_ANONYMOUS=true"
BLOCK_ANONYMOUS=true "$bin"/bootstrap --event events/anonymous-call.json 2>>"$lambda_log" | cut -f2

echo
echo "==> an agent reports the caller of events/report-caller.json (the report function), then an admin approves"
"$bin"/report --event events/report-caller.json 2>>"$lambda_log" | cut -f2
"$bin"/blocklist pending
"$bin"/bootstrap --event events/report-caller.json 2>>"$lambda_log" | cut -f2
"$bin"/blocklist approve +14155550177 --reason "abusive caller, confirmed"
"$bin"/bootstrap --event events/report-caller.json 2>>"$lambda_log" | cut -f2

echo
echo "==> watch before you block: a monitoring prefix counts what it would block; promote makes it block"
"$bin"/blocklist add "+1 206 555" --prefix --monitor --reason "suspected robocall range" >/dev/null
"$bin"/blocklist check +12065550100
"$bin"/blocklist promote +1206555 --prefix --reason "only robocalls seen" >/dev/null
"$bin"/blocklist check +12065550100
echo "==> block on one line only: the sales line blocks, the support line takes the call"
"$bin"/blocklist add +14155550166 --line +18005550100 --reason "harasses sales" >/dev/null
"$bin"/blocklist check +14155550166 --line +18005550100
"$bin"/blocklist check +14155550166 --line +18005550199

echo
echo "==> the Lambda's decision log line for the blocked call (numbers masked)"
grep -m1 '"is_blocked":true' "$lambda_log" || true

# The console is a server, and the demo leaves nothing running: it says how
# to start one instead.
echo
echo "==> the supervisor console: with the tables reachable (AWS credentials, or AWS_ENDPOINT_URL_DYNAMODB"
echo "    and dummy credentials as above), run \`$bin/blocklist serve\` and open the address it prints first"
echo "    (README: The supervisor console)"
