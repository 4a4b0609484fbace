#!/usr/bin/env bash
# `sam build` on a fresh machine: installs the SAM CLI, cargo-lambda and zig
# from PyPI (pinned), builds the arm64 `bootstrap`, and checks what came out.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -r tools/requirements-sam.txt
rustup target add aarch64-unknown-linux-gnu >/dev/null
# samconfig.toml turns on the local expansion of the template's Fn::ForEach,
# which needs a value for the collection it loops over. The functions are
# outside the loops, so any well-formed instance ARN builds the same
# artifacts; a deploy expands the loops with the stack's own instances.
sam build --beta-features \
  --parameter-overrides ConnectInstanceArns=arn:aws:connect:us-east-1:123456789012:instance/00000000-0000-0000-0000-000000000000
for function in BlocklistFunction ReportFunction; do
  artifact=.aws-sam/build/$function/bootstrap
  kind=$(file "$artifact")
  echo "$kind"
  grep -q 'ARM aarch64' <<<"$kind" || { echo "sam build: $artifact is not an arm64 binary" >&2; exit 1; }
  ls -l "$artifact"
done
