#!/usr/bin/env bash
# `audit summary` over a generated log of N records (default 1,000,000) against jq doing the same count by
# site × operation × outcome on the same file: wall time and peak RSS from /usr/bin/time -v.
# Usage: bench/audit/run.sh [N]   (needs a release build: swift build -c release --product justgate)
set -euo pipefail
cd "$(dirname "$0")/../.."
count="${1:-1000000}"
dir="$(mktemp -d /tmp/justgate-audit-bench.XXXXXX)"
trap 'rm -rf "$dir"' EXIT
python3 bench/audit/generate.py "$dir/audit.jsonl" "$count"
echo "log: $count records, $(du -h "$dir/audit.jsonl" | cut -f1)"
measure() {
    local name="$1"; shift
    /usr/bin/time -v "$@" > "$dir/$name.out" 2> "$dir/$name.time"
    local wall rss cpu
    wall=$(grep "Elapsed (wall clock)" "$dir/$name.time" | awk '{print $NF}')
    rss=$(grep "Maximum resident set size" "$dir/$name.time" | awk '{print $NF}')
    cpu=$(awk -F': ' '/User time|System time/ {sum += $2} END {printf "%.2f", sum}' "$dir/$name.time")
    printf '%-28s wall %-10s CPU %7s s   peak RSS %6d MiB\n' "$name" "$wall" "$cpu" $((rss / 1024))
}
cat "$dir/audit.jsonl" > /dev/null   # warm the page cache for both
measure "justgate audit summary" .build/release/justgate audit summary --file "$dir/audit.jsonl"
measure "jq (count only)" jq -n 'reduce inputs as $r ({}; .[($r.site // "-") + " " + ($r.operation // "-") + " " + ($r.outcome // "-")] += 1)' "$dir/audit.jsonl"
measure "justgate audit verify" .build/release/justgate audit verify --file "$dir/audit.jsonl"
measure "justgate audit query" .build/release/justgate audit query --file "$dir/audit.jsonl" --status 5xx
measure "justgate audit report" .build/release/justgate audit report --file "$dir/audit.jsonl" --html "$dir/report.html"
