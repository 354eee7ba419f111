#!/usr/bin/env bash
# CPU per deferral over a forwarded call (issue 25 target: at most 5 µs): builds bench/outbox in release, starts
# nginx on 127.0.0.1 as the upstream (fixed 200 answers), and runs OutboxDeferralCost: a gateway in the bench's
# process answering subscribe.sms calls forwarded, then the same calls deferred (`Prefer: respond-async`, 202
# once durable), comparing the gateway's CPU per call. Also run by bench/outbox/run.sh.
#
# Usage: bash bench/outbox/cost.sh [OutboxDeferralCost options: --seconds N --connections N --rounds N]
# The outboxes go to a temporary directory on the disk of $TMPDIR (or /tmp), removed at the end.
set -euo pipefail
OUTBOX_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$OUTBOX_DIR"
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi
. "$OUTBOX_DIR/upstream.sh"
DELAY_MS=0
rm -f .build/release.yaml .build/*/release/description.json
printf '==> building in release\n' >&2
swift build -c release --product OutboxDeferralCost >/tmp/justgate-deferral-cost-build.log 2>&1 \
    || { cat /tmp/justgate-deferral-cost-build.log >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/justgate-deferral-cost.XXXXXX")"
NGINX_PID=""
cleanup() {
    [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
start_nginx_upstream
printf '==> upstream: nginx on 127.0.0.1:%s; load average: %s\n' "$PORT" "$(cut -d' ' -f1-3 /proc/loadavg)" >&2
.build/release/OutboxDeferralCost --upstream "http://127.0.0.1:$PORT" --token "$TOKEN" --dir "$WORK/outbox" "$@"
