#!/usr/bin/env python3
"""Writes BENCHMARKS.md (to stdout) from the outputs bench/all.sh saved.

Reads every `result key=value` line of RESULTS_DIR/*.txt, compares them with
the targets of issue 6, and appends each benchmark's full output.
Usage: bench/report.py RESULTS_DIR > BENCHMARKS.md
"""

import datetime
import os
import platform
import re
import subprocess
import sys


def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine(directory):
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "unknown"
    try:
        with open("/proc/meminfo") as f:
            kib = int(f.readline().split()[1])
            mem = f"{kib / 1048576:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    # bench/all.sh notes the commit and time when it starts; the numbers are theirs.
    meta = {}
    try:
        with open(os.path.join(directory, "meta")) as f:
            meta = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
    except OSError:
        pass
    commit = meta.get("commit") or sh("git", "rev-parse", "--short", "HEAD")
    started = meta.get("started") or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")
    return [
        ("Date (UTC)", started),
        ("Machine", f"{platform.machine()}, {os.cpu_count()} cores ({cpu}), {mem} RAM"),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Toolchain", sh("rustc", "--version")),
        ("Commit", commit),
    ]


def results(directory):
    found, outputs = {}, {}
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".txt") or name == "meta":
            continue
        with open(os.path.join(directory, name), encoding="utf-8", errors="replace") as f:
            text = f.read()
        outputs[name[:-4]] = text
        for key, value in re.findall(r"^result (\w+)=(\S+)$", text, re.M):
            found[key] = float(value)
    return found, outputs


def row(what, target, measured, met):
    verdict = "—" if met is None else ("met" if met else "**missed**")
    return f"| {what} | {target} | {measured} | {verdict} |"


def table(r):
    rows = []
    get = r.get

    def have(*keys):
        return all(k in r for k in keys)

    if have("coldstart_first_answer_p50_ms"):
        v = get("coldstart_first_answer_p50_ms")
        rows.append(row("Cold start: exec of the release `bootstrap` to its first answer, "
                        "median of 20 fresh processes (local Runtime API, dynalite)",
                        "< 50 ms", f"{v:.1f} ms (p90 {get('coldstart_first_answer_p90_ms', 0):.1f} ms)", v < 50))
    if have("coldstart_init_cpu_p50_ms"):
        v = get("coldstart_init_cpu_p50_ms")
        rows.append(row("Init CPU time (user + sys, all threads), exec to the first poll, median",
                        "≤ 10 ms", f"{v:.2f} ms", v <= 10))
    if have("coldstart_first_answer_ratio"):
        v = get("coldstart_first_answer_ratio")
        rows.append(row("Cold start vs the seed's Python handler (exec to first answer, medians, "
                        "interleaved in the same run)", "≤ 1/20",
                        f"1/{1 / v:.1f}: {get('coldstart_first_answer_p50_ms'):.1f} ms vs "
                        f"{get('coldstart_baseline_first_answer_p50_ms'):.1f} ms", v <= 0.05))
    if have("coldstart_first_answer_cpu_p50_ms", "coldstart_warm_call_cpu_p50_ms"):
        rows.append(row("CPU time: exec to first answer; per warm call (blocked number: GetItem + "
                        "hit count), medians", "—",
                        f"{get('coldstart_first_answer_cpu_p50_ms'):.2f} ms; "
                        f"{get('coldstart_warm_call_cpu_p50_ms'):.3f} ms", None))
    if have("coldstart_init_total_ms_p50"):
        parts = ", ".join(f"{label} {get('coldstart_init_' + key + '_ms_p50', 0):.2f}"
                          for label, key in [("config", "config"), ("SDK client", "client"),
                                             ("phone metadata", "phone_metadata"), ("rules", "rules")])
        rows.append(row("Init, as the function logs it (median ms)", "—",
                        f"{get('coldstart_init_total_ms_p50'):.1f} ms: {parts}", None))
    if have("warm_handler_overhead_p50_ms"):
        v = get("warm_handler_overhead_p50_ms")
        rows.append(row("Warm: handler's answer minus a bare GetItem, p50, same server, same run",
                        "< 0.2 ms", f"{v:+.3f} ms (handler {get('warm_handler_p50_ms'):.3f} ms, "
                        f"GetItem {get('warm_bare_getitem_p50_ms'):.3f} ms)", v < 0.2))
    if have("warm_rules_cost_p50_ms"):
        rows.append(row("Warm: added cost of 10,000 prefix rules + 1,000 allow entries, p50", "—",
                        f"{get('warm_rules_cost_p50_ms'):+.3f} ms", None))
    if have("load1_peak_rss_kib"):
        kib = get("load1_peak_rss_kib")
        rows.append(row("Peak RSS over 10,000 warm invocations (one process, VmHWM)", "< 30 MB",
                        f"{kib * 1024 / 1e6:.1f} MB ({kib / 1024:.1f} MiB)", kib * 1024 < 30e6))
    if have("load1_rss_growth_kib"):
        g = get("load1_rss_growth_kib")
        rows.append(row("RSS growth from invocation 1,000 to 10,000", "flat",
                        f"{g:+.0f} KiB", abs(g) <= 512))
    if have("size_bootstrap_arm64_bytes"):
        b = get("size_bootstrap_arm64_bytes")
        rows.append(row("arm64 release `bootstrap` (cargo-lambda, as `sam build`)", "< 10 MB",
                        f"{b / 1e6:.2f} MB ({b / 1048576:.2f} MiB)", b < 10e6))
    if have("normalize_ns_per_number"):
        rows.append(row("Normalization, mixed international set (criterion mean)", "—",
                        f"{get('normalize_ns_per_number'):.0f} ns per number; first parse "
                        f"{get('normalize_first_parse_ms', 0):.1f} ms", None))
    if have("import_rows_per_s"):
        rows.append(row("Import of 100,000 rows (with their audit records)", "—",
                        f"{get('import_rows_per_s'):.0f} rows/s", None))
    loads = sorted({int(m.group(1)) for k in r for m in [re.match(r"load(\d+)_rate_per_s", k)] if m})
    for n in loads:
        failures = get(f"load{n}_failures", 0) + get(f"load{n}_lost", 0)
        rows.append(row(f"Load: 10,000 invocations, {n} process(es), proxy and dynalite in the loop",
                        "zero errors", f"{get(f'load{n}_rate_per_s'):.0f}/s, p50 "
                        f"{get(f'load{n}_latency_p50_ms'):.3f} ms, p99 {get(f'load{n}_latency_p99_ms'):.3f} ms, "
                        f"{failures:.0f} errors or lost", failures == 0))
    return rows


def rate_limit_rows(r):
    """Rows of bench/rate-limit.sh (issue 15), kept apart from table()."""
    rows = []
    get = r.get
    if all(k in r for k in ("rate_limit_added_p50_ms", "rate_limit_added_cpu_ms")):
        rows.append(row("Rate limit on vs off: added wall per warm call, p50 (interleaved, "
                        "real `bootstrap`, dynalite)", "one UpdateItem round trip",
                        f"{get('rate_limit_added_p50_ms'):+.3f} ms (off {get('rate_limit_off_p50_ms'):.3f}, "
                        f"on {get('rate_limit_on_p50_ms'):.3f}; bare UpdateItem "
                        f"{get('rate_limit_bare_updateitem_p50_ms'):.3f} ms, p99 added "
                        f"{get('rate_limit_added_p99_ms'):+.3f} ms)", None))
        rows.append(row("Rate limit on vs off: added CPU per warm call (user+sys of the process)",
                        "one UpdateItem", f"{get('rate_limit_added_cpu_ms'):+.3f} ms (off "
                        f"{get('rate_limit_off_cpu_ms'):.3f}, on {get('rate_limit_on_cpu_ms'):.3f}; "
                        f"client side of a bare UpdateItem {get('rate_limit_bare_updateitem_cpu_ms'):.3f} ms)",
                        None))
    if "rate_limit_exact" in r:
        rows.append(row(f"Rate limit counting: {get('rate_limit_made_calls'):.0f} calls from one number "
                        f"over {get('rate_limit_containers', 0):.0f} concurrent `bootstrap` processes, limit {get('rate_limit_limit'):.0f}",
                        "exact", f"counter {get('rate_limit_counted_calls'):.0f}, "
                        f"{get('rate_limit_through'):.0f} let through",
                        get("rate_limit_exact") == 1))
    return rows


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else "target/bench-results"
    r, outputs = results(directory)
    print("# Benchmarks\n")
    print("Written by `bench/all.sh` (which runs every script under `bench/` and "
          "`cargo bench --bench normalize`); do not edit by hand. Targets are from issue 6; "
          "MB is 10^6 bytes.\n")
    for key, value in machine(directory):
        print(f"- **{key}:** {value}")
    print("\n| What | Target | Measured | |")
    print("| --- | --- | --- | --- |")
    for line in table(r) + rate_limit_rows(r):
        print(line)
    print("\nNot run by `bench/all.sh`: the 10-minute fuzz runs (`scripts/fuzz.sh 600`; numbers in "
          "[fuzz/README.md](fuzz/README.md)), the fault tests (`tests/faults.rs`, part of "
          "`scripts/test.sh`: every answer within `LOOKUP_TIMEOUT_MS` + 250 ms under each fault), "
          "and the console at scale (`bench/console.sh N`: its section below).")
    # Hand-written history (before/after tables of past changes, with their
    # commands): numbers of other commits that one run cannot reproduce.
    history = os.path.join(os.path.dirname(os.path.abspath(__file__)), "history.md")
    if os.path.exists(history):
        with open(history, encoding="utf-8") as f:
            print("\n" + f.read().strip())
    print("\n## Full outputs\n")
    for name, text in outputs.items():
        # criterion's progress lines are noise here
        lines = [l for l in text.splitlines() if not l.startswith(("Benchmarking", "Warning: Unable"))]
        print(f"### {name}\n\n```text\n" + "\n".join(lines).strip() + "\n```\n")


if __name__ == "__main__":
    main()
