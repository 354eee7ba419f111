#!/usr/bin/env bash
# Draining a backlog without starving live calls (issue 25: live p99 within 1.2x of no-drain): builds
# bench/outbox in release, starts nginx on 127.0.0.1 as the upstream (fixed 200 answers, 401 without the
# token; BENCH_DRAIN_DELAY_MS > 0 delays every answer with Debian's echo module, an upstream with a pace of
# its own), and runs OutboxDrain: an outbox kept at 100,000 pending entries, and live-call latency with and
# without the gateway draining it, in interleaved passes (8 rounds of two 6 s passes plus 1 s of warm-up
# each: about 2 to 3 minutes with the fills). It prints each pass (load average, live p50/p99, entries
# delivered per second, whether the backlog ran out) and the median per-round ratio with its spread.
#
# Usage: bash bench/outbox/drain.sh [OutboxDrain options: --entries N --seconds N --warmup-ms N --connections N
#                                    --pace-ms N --rounds N --min-delivery-rate N]
# The outboxes go to a temporary directory on the disk of $TMPDIR (or /tmp), removed at the end.
# Environment: BENCH_DRAIN_DELAY_MS (default 0).
set -euo pipefail
OUTBOX_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$OUTBOX_DIR"
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi
. "$OUTBOX_DIR/upstream.sh"
DELAY_MS="${BENCH_DRAIN_DELAY_MS:-0}"
rm -f .build/release.yaml .build/*/release/description.json
printf '==> building in release\n' >&2
swift build -c release --product OutboxDrain >/tmp/justgate-drain-bench-build.log 2>&1 \
    || { cat /tmp/justgate-drain-bench-build.log >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/justgate-drain.XXXXXX")"
NGINX_PID=""
cleanup() {
    [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
start_nginx_upstream
printf '==> upstream: nginx on 127.0.0.1:%s, answers after %s ms; load average: %s\n' "$PORT" "$DELAY_MS" \
    "$(cut -d' ' -f1-3 /proc/loadavg)" >&2
.build/release/OutboxDrain --upstream "http://127.0.0.1:$PORT" --token "$TOKEN" --dir "$WORK/outbox" "$@"
