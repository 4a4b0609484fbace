#!/usr/bin/env bash
# `sam build` on a fresh machine: installs the SAM CLI, cargo-lambda and zig
# from PyPI (pinned), builds the arm64 `bootstrap`, and checks what came out.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -r tools/requirements-sam.txt
rustup target add aarch64-unknown-linux-gnu >/dev/null
sam build --beta-features
for function in BlocklistFunction ReportFunction; do
  artifact=.aws-sam/build/$function/bootstrap
  kind=$(file "$artifact")
  echo "$kind"
  grep -q 'ARM aarch64' <<<"$kind" || { echo "sam build: $artifact is not an arm64 binary" >&2; exit 1; }
  ls -l "$artifact"
done
