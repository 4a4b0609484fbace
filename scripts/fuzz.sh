#!/usr/bin/env bash
# Runs the cargo-fuzz targets in fuzz/ for a while each, from the committed
# seeds, and fails if any of them finds a crash (a panic, a failed assertion
# about the answer, a sanitizer report, a timeout or running out of memory).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS per target (default 60); targets default to all of them
# (event_answer normalize). One process per target, one after the other.
#
# Works on a stable toolchain: with a sanitizer, cargo-fuzz passes the
# nightly-only -Zsanitizer=address to rustc, which stable accepts with
# RUSTC_BOOTSTRAP=1, set here for the fuzz build only. Without a sanitizer
# (FUZZ_SANITIZER=none) no -Z flag is used and plain stable builds it.
#
# Environment:
#   FUZZ_SANITIZER   address (default) or none (no ASan: about 5x the
#                    executions per second and a quarter of the memory)
#   FUZZ_CODEGEN_UNITS  codegen units of the fuzz build (default 16: a much
#                    faster cold build of the AWS SDK, slightly slower runs)
#   FUZZ_ARGS        extra libFuzzer flags, e.g. "-max_len=8192"
#
# New inputs go to fuzz/corpus/<target> (git-ignored, kept between runs);
# fuzz/seeds/<target> is only read. A crash is saved in
# fuzz/artifacts/<target>/; see fuzz/README.md to turn it into a test.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_FUZZ_VERSION=0.13.2
ALL_TARGETS=(event_answer normalize)

seconds=${1:-60}
if ! [[ $seconds =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "usage: $0 [SECONDS] [TARGET...]   (targets: ${ALL_TARGETS[*]})" >&2
  exit 2
fi
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")
for t in "${targets[@]}"; do
  [ -f "fuzz/fuzz_targets/$t.rs" ] || { echo "no fuzz target $t (have: ${ALL_TARGETS[*]})" >&2; exit 2; }
done

if [ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
  echo "==> installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"
fi

sanitizer=${FUZZ_SANITIZER:-address}
[ "$sanitizer" = none ] || export RUSTC_BOOTSTRAP=1
build_flags=(--sanitizer "$sanitizer" --codegen-units "${FUZZ_CODEGEN_UNITS:-16}")
read -r -a extra_args <<<"${FUZZ_ARGS:-}"

echo "==> cargo fuzz build (${build_flags[*]}; $(rustc --version))"
start=$(date +%s)
# `cargo fuzz build` takes one target, or none for all of them.
if [ ${#targets[@]} -eq ${#ALL_TARGETS[@]} ]; then
  (cd fuzz && cargo fuzz build "${build_flags[@]}")
else
  for t in "${targets[@]}"; do
    (cd fuzz && cargo fuzz build "${build_flags[@]}" "$t")
  done
fi
echo "==> built in $(($(date +%s) - start)) s"

failed=()
for t in "${targets[@]}"; do
  corpus="fuzz/corpus/$t"
  mkdir -p "$corpus" "fuzz/artifacts/$t"
  echo "==> fuzzing $t for $seconds s (corpus $corpus, seeds fuzz/seeds/$t)"
  # The first directory receives new inputs; the seeds are only read. A run
  # taking over 30 s is a hang: 10 s was too close, one seed (5011524516,
  # read in 8 countries) compiles the numbering regexes of every NANPA
  # region under ASan, 3 s of CPU, 12 s of wall time on a loaded machine.
  if (cd fuzz && cargo fuzz run "${build_flags[@]}" "$t" "corpus/$t" "seeds/$t" -- \
    -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
    "${extra_args[@]}"); then
    echo "==> $t: no crash in $seconds s"
  else
    echo "==> $t: FAILED (see fuzz/artifacts/$t/)" >&2
    failed+=("$t")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found crashes in: ${failed[*]}" >&2
  exit 1
fi
echo "==> fuzzing passed: ${targets[*]}, $seconds s each"
