#!/usr/bin/env bash
# libFuzzer targets for justgate's parsers and field rules (see Fuzz/README.md).
#
#   fuzz.sh build              build every target with -sanitize=fuzzer,address (debug)
#   fuzz.sh regress            run every target once over its checked-in seed corpus; non-zero on any crash
#   fuzz.sh run [SECONDS]      fuzz each target for SECONDS (default 60), one after another, and summarise
#                              (FUZZ_ONLY="FuzzJSON FuzzChunked" runs only those)
#   fuzz.sh minimize TARGET FILE   shrink a crashing input to FILE.min
#
# Seeds live in Tests/Fuzz/corpus/<dir>; Fuzz/dicts/<dir>.dict, when present, is passed to `run` as -dict.
# `run` fuzzes in Fuzz/.corpus-work/<target> (seeded from there, kept between runs, gitignored) and writes
# crashes to Fuzz/crashes/; nothing is ever added to the checked-in corpus. FUZZ_FLAGS adds libFuzzer flags.
set -euo pipefail

FUZZ_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(dirname "$FUZZ_DIR")"
CORPUS_DIR="$REPO_DIR/Tests/Fuzz/corpus"
WORK_DIR="$FUZZ_DIR/.corpus-work"
CRASH_DIR="$FUZZ_DIR/crashes"
SWIFT="${SWIFT:-swift}"

# target:seed-directory, in the order they run.
TARGETS=(
    FuzzHTTPHead:http-parser
    FuzzChunked:chunked
    FuzzMultipart:multipart
    FuzzURLEncoded:urlencoded
    FuzzJSON:json
    FuzzFieldRules:rules
    FuzzRESP:resp
    FuzzQuotaReply:quota-reply
)

# Selector order of FuzzFieldRules (the `rules` array in Sources/FuzzFieldRules/FuzzFieldRules.swift).
RULES=(email phone ip juid name gender birthDate unixTimestamp dateTime channel tags label article url text utmData)

# -parse-as-library: the targets have no Swift entry point; libFuzzer's driver is main (see FuzzEntry.c).
BUILD_ARGS=(-c debug --package-path "$FUZZ_DIR" -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library)

# LeakSanitizer would report the Swift runtime's never-freed metadata caches; leaks are not what we hunt here.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1:symbolize=1}"
# Swift's own crash backtracer reads process memory through ASan's interceptors and can hang a crashing child
# (seen under -minimize_crash); libFuzzer already prints the stack.
export SWIFT_BACKTRACE="${SWIFT_BACKTRACE:-enable=no}"

die() { echo "fuzz.sh: $*" >&2; exit 2; }

build() {
    local start=$SECONDS
    # gold warns about every ASan register-spill symbol it cannot export; those warnings are harmless noise.
    "$SWIFT" build "${BUILD_ARGS[@]}" 2>&1 | { grep -v "Cannot export local symbol '__asan" || true; }
    echo "fuzz.sh: build took $((SECONDS - start)) s"
}

bin_dir() { "$SWIFT" build "${BUILD_ARGS[@]}" --show-bin-path; }

# A two-byte big-endian prefix, as octal escapes for printf.
prefix2() { printf '\\%03o\\%03o' $(($1 / 256 % 256)) $(($1 % 256)); }

# Writes the libFuzzer-format seeds of one target into $2 (which must exist).
# Most corpora are used as they are. Two targets take a prefix before the payload, so their plain seeds are
# converted; files named *.fuzz in those directories are already in the target's format (e.g. saved crashes).
prepare_seeds() {
    local target=$1 out=$2 dir
    dir="$CORPUS_DIR/$(seed_dir_of "$target")"
    [[ -d $dir ]] || die "no seed corpus at $dir"
    case $target in
    FuzzChunked)
        # Plain chunked bodies; the target reads a split point first. Seed each body split after its first byte
        # and in the middle.
        local file name size
        for file in "$dir"/*; do
            [[ -f $file ]] || continue
            name=$(basename "$file")
            if [[ $name == *.fuzz ]]; then cp "$file" "$out/$name"; continue; fi
            size=$(stat -c %s "$file")
            { printf "$(prefix2 1)"; cat "$file"; } >"$out/$name.split-1"
            { printf "$(prefix2 $((size / 2)))"; cat "$file"; } >"$out/$name.split-half"
        done
        ;;
    FuzzFieldRules)
        # rules/<rule>.txt holds one raw value per line; the target reads a selector byte first (the rule's
        # index, +16 for the strict site options).
        local index rule line count file
        for index in "${!RULES[@]}"; do
            rule=${RULES[$index]}
            [[ -f $dir/$rule.txt ]] || continue
            count=0
            while IFS= read -r line || [[ -n $line ]]; do
                count=$((count + 1))
                { printf "\\$(printf %03o "$index")"; printf '%s' "$line"; } >"$out/$rule-$count"
                { printf "\\$(printf %03o $((index + 16)))"; printf '%s' "$line"; } >"$out/$rule-$count-strict"
            done <"$dir/$rule.txt"
        done
        for file in "$dir"/*.fuzz; do
            if [[ -f $file ]]; then cp "$file" "$out/"; fi
        done
        ;;
    *)
        cp "$dir"/* "$out/"
        ;;
    esac
}

seed_dir_of() {
    local entry
    for entry in "${TARGETS[@]}"; do
        [[ ${entry%%:*} == "$1" ]] && { echo "${entry#*:}"; return; }
    done
    die "unknown target $1 (targets: ${TARGETS[*]%%:*})"
}

regress() {
    [[ ${FUZZ_SKIP_BUILD:-0} == 1 ]] || build
    local bin seeds target failed=() entry
    bin=$(bin_dir)
    seeds=$(mktemp -d)
    trap 'rm -rf "$seeds"' RETURN
    for entry in "${TARGETS[@]}"; do
        target=${entry%%:*}
        mkdir -p "$seeds/$target"
        prepare_seeds "$target" "$seeds/$target"
        # Passing files (not the directory) runs each exactly once and never writes to a corpus.
        if "$bin/$target" -timeout=20 -rss_limit_mb=2048 -artifact_prefix="$seeds/" "$seeds/$target"/* \
            >"$seeds/$target.log" 2>&1; then
            echo "PASS $target ($(find "$seeds/$target" -type f | wc -l) seeds)"
        else
            echo "FAIL $target:"
            grep -E "^Running:|FUZZ PROPERTY|ERROR:|SUMMARY:|Fatal error" "$seeds/$target.log" | tail -5
            failed+=("$target")
        fi
    done
    if ((${#failed[@]})); then
        echo "fuzz.sh regress: ${#failed[@]} target(s) crashed on a seed: ${failed[*]}" >&2
        return 1
    fi
}

run() {
    local seconds=${1:-60} bin entry target work log dict status execs cov ft corp crashes total_crashes=0 marker
    [[ $seconds =~ ^[0-9]+$ ]] || die "SECONDS must be a whole number, got '$seconds'"
    build
    bin=$(bin_dir)
    mkdir -p "$WORK_DIR" "$CRASH_DIR"
    marker=$(mktemp)
    trap 'rm -f "$marker"' RETURN
    local summary=()
    for entry in "${TARGETS[@]}"; do
        target=${entry%%:*}
        # FUZZ_ONLY="FuzzJSON FuzzChunked" limits a run to those targets (to split a campaign across cores).
        if [[ -n ${FUZZ_ONLY:-} && " $FUZZ_ONLY " != *" $target "* ]]; then continue; fi
        work="$WORK_DIR/$target"
        log="$WORK_DIR/$target.log"
        mkdir -p "$work"
        prepare_seeds "$target" "$work"
        touch "$marker"
        echo "fuzz.sh: fuzzing $target for ${seconds}s (log: ${log#"$REPO_DIR"/})"
        local extra=()
        dict="$FUZZ_DIR/dicts/$(seed_dir_of "$target").dict"
        [[ -f $dict ]] && extra+=(-dict="$dict")
        # FUZZ_FLAGS: extra libFuzzer flags, e.g. "-use_value_profile=1 -max_len=8192".
        read -r -a flags <<<"${FUZZ_FLAGS:-}"
        extra+=(${flags[@]+"${flags[@]}"})
        status=0
        "$bin/$target" "$work" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$CRASH_DIR/$target-" "${extra[@]}" >"$log" 2>&1 || status=$?
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        read -r cov ft corp < <(grep -E '^#[0-9]+' "$log" | tail -1 |
            sed -E 's/.*cov: ([0-9]+) ft: ([0-9]+) corp: ([0-9]+).*/\1 \2 \3/') || true
        crashes=$(find "$CRASH_DIR" -name "$target-*" -newer "$marker" -type f | wc -l)
        total_crashes=$((total_crashes + crashes))
        summary+=("$(printf '%-15s execs=%-9s cov=%-5s ft=%-6s corpus=%-5s crashes=%s exit=%s' \
            "$target" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$crashes" "$status")")
        echo "${summary[-1]}"
        if ((crashes)); then
            grep -E "FUZZ PROPERTY|ERROR: |SUMMARY:|Fatal error|artifact_prefix|Test unit written" "$log" | head -5
        fi
    done
    echo "---- summary (${seconds}s per target)"
    printf '%s\n' "${summary[@]}"
    ((total_crashes == 0)) || { echo "fuzz.sh: $total_crashes crash file(s) in ${CRASH_DIR#"$REPO_DIR"/}" >&2; return 1; }
}

minimize() {
    local target=${1:-} file=${2:-}
    [[ -n $target && -f $file ]] || die "usage: fuzz.sh minimize TARGET CRASH_FILE"
    seed_dir_of "$target" >/dev/null
    "$(bin_dir)/$target" -minimize_crash=1 -max_total_time=60 -exact_artifact_path="$file.min" "$file" || true
    echo "fuzz.sh: minimised input in $file.min ($(stat -c %s "$file.min") bytes)"
}

cd "$REPO_DIR"
case ${1:-} in
build) build ;;
regress) regress ;;
run) run "${2:-60}" ;;
minimize) minimize "${2:-}" "${3:-}" ;;
*) die "usage: fuzz.sh build | regress | run [SECONDS] | minimize TARGET FILE" ;;
esac
