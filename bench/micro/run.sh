#!/usr/bin/env bash
# Micro-benchmarks of justgate's pure hot path: builds this package in release, runs the
# ordo-one/benchmark suite (wall clock + malloc counts) and the plain clock_gettime
# cross-check, prints one compact table and writes bench/results/micro.json.
#
# Usage: bash bench/micro/run.sh        (from anywhere)
# Environment:
#   MICRO_BENCH_SECONDS  sampling time per benchmark and harness (default 2)
#   MICRO_BENCH_FILTER   only benchmarks whose name contains this text, e.g. e2e
#   MICRO_BENCH_PLAIN=0  skip the plain clock_gettime cross-check
#   MICRO_BENCH_OUT      output JSON (default bench/results/micro.json)
set -euo pipefail

MICRO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BENCH_DIR="$(dirname "$MICRO_DIR")"
OUT_JSON="${MICRO_BENCH_OUT:-$BENCH_DIR/results/micro.json}"
FILTER="${MICRO_BENCH_FILTER:-}"
RUN_PLAIN="${MICRO_BENCH_PLAIN:-1}"
export MICRO_BENCH_SECONDS="${MICRO_BENCH_SECONDS:-2}"

log() { printf '==> %s\n' "$*" >&2; }

# --- what the run needs -----------------------------------------------------------------
# The Swift toolchain comes with the machine (/opt/swift); everything else is from apt.
# No jemalloc: ordo-one/benchmark counts mallocs with its own interposer (MallocInterposer trait).
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi
command -v swift >/dev/null 2>&1 || { echo "run.sh: swift is not on PATH; install the Swift toolchain (6.1 or later)" >&2; exit 1; }

missing=()
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]} (apt)"
    if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/justgate-micro.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
cd "$MICRO_DIR"

loadavg() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown; }
LOAD_BEFORE="$(loadavg)"

# --- build --------------------------------------------------------------------------------
cold=false
[ -d .build/release ] || cold=true
log "building in release (cold: $cold)"
# SwiftPM keeps the path dependency's list of source files from the last build and does not notice a
# file added to the gateway since: forget the build plan (not the compiled objects) so it is made afresh.
rm -f .build/release.yaml .build/*/release/description.json
build_start=$(date +%s.%N)
if ! swift build -c release >"$WORK/build.log" 2>&1; then
    cat "$WORK/build.log" >&2
    exit 1
fi
build_seconds=$(python3 -c "print(round($(date +%s.%N) - $build_start, 1))")
log "build took ${build_seconds}s"

# --- ordo-one/benchmark --------------------------------------------------------------------
log "running ordo-one/benchmark (${MICRO_BENCH_SECONDS}s per benchmark)"
mkdir -p "$WORK/percentiles"
filter_args=()
[ -n "$FILTER" ] && filter_args=(--filter ".*${FILTER//./\\.}.*")
plugin_start=$(date +%s.%N)
if ! swift package --allow-writing-to-directory "$WORK/percentiles" benchmark \
        --no-progress --format histogramPercentiles --path "$WORK/percentiles" \
        "${filter_args[@]}" >"$WORK/benchmark.log" 2>&1; then
    cat "$WORK/benchmark.log" >&2
    exit 1
fi
plugin_seconds=$(python3 -c "print(round($(date +%s.%N) - $plugin_start, 1))")

# --- plain clock_gettime cross-check -------------------------------------------------------
plain_args=()
if [ "$RUN_PLAIN" != "0" ]; then
    log "running the plain clock_gettime cross-check"
    plain_filter=()
    [ -n "$FILTER" ] && plain_filter=("$FILTER")
    .build/release/PlainTiming --json "$WORK/plain.json" "${plain_filter[@]}" >"$WORK/plain.log"
    plain_args=(--plain "$WORK/plain.json")
fi

# --- worst inputs of the field rules against the 5 ms bound --------------------------------------
# Not a sample of the hot path but a bound: one field rule on its worst ~1 MiB value must not hold an
# event loop for more than 5 ms. WorstInputs prints FAIL and exits 1 when a rule is over; the run fails.
worst_rc=0
if [ -z "$FILTER" ] || [[ "worst" == *"$FILTER"* ]]; then
    log "running the field rules' worst inputs (bound 5 ms)"
    .build/release/WorstInputs >"$WORK/worst.log" || worst_rc=$?
fi

LOAD_AFTER="$(loadavg)"
python3 - "$WORK/meta.json" <<EOF
import json, platform, subprocess, sys, datetime
swift = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout.splitlines()
cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "unknown")
json.dump({
    "generated_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "machine": {"cpu": cpu, "cpus": $(nproc), "kernel": platform.release(),
                "loadavg_before": "$LOAD_BEFORE", "loadavg_after": "$LOAD_AFTER"},
    "swift": swift[0] if swift else "unknown",
    "build": {"configuration": "release", "cold": $( $cold && echo True || echo False ),
              "swift_build_seconds": $build_seconds,
              "benchmark_plugin_seconds": $plugin_seconds},
    "seconds_per_benchmark": $MICRO_BENCH_SECONDS,
}, open(sys.argv[1], "w"))
EOF

echo
python3 "$MICRO_DIR/report.py" --percentiles "$WORK/percentiles" "${plain_args[@]}" \
    --meta "$WORK/meta.json" --out "$OUT_JSON"
echo "machine load average before/after: $LOAD_BEFORE / $LOAD_AFTER (2 cores; numbers on a busy box run high)"
echo "build: swift build -c release ${build_seconds}s (cold: $cold); benchmark plugin run ${plugin_seconds}s"
if [ -f "$WORK/worst.log" ]; then
    echo
    cat "$WORK/worst.log"
fi
exit "$worst_rc"
