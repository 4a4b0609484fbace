#!/usr/bin/env bash
# Release binary sizes of the two Lambdas: x86_64 (this machine) and arm64,
# the architecture the template deploys, cross-built the way `sam build`
# builds it (cargo-lambda with zig as the linker, from PyPI, pinned in
# tools/requirements-sam.txt; needs the aarch64-unknown-linux-gnu target).
# Usage: bench/size.sh
set -euo pipefail
cd "$(dirname "$0")/.."
size() { # label key file
  ls -l "$3" | awk -v what="$1" -v key="$2" '{printf "%s: %d bytes (%.2f MiB)\nresult size_%s_bytes=%d\n", what, $5, $5/1048576, key, $5}'
}
cargo build --locked --release --quiet --bin bootstrap --bin report
size "bootstrap x86_64" bootstrap_x86_64 target/release/bootstrap
size "report x86_64" report_x86_64 target/release/report
if ! command -v cargo-lambda >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check -r tools/requirements-sam.txt
fi
rustup target list --installed | grep -q aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu
cargo lambda build --release --arm64 --locked --bin bootstrap --bin report >/dev/null 2>&1
for bin in bootstrap report; do
  artifact=target/lambda/$bin/bootstrap
  file "$artifact" | grep -q 'ARM aarch64' || { echo "size: $artifact is not arm64" >&2; exit 1; }
  size "$bin arm64" "${bin}_arm64" "$artifact"
done
