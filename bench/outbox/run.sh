#!/usr/bin/env bash
# Deferrals per second of the outbox's file backend with group fsync (issue 25 target: >= 20,000/s):
# builds bench/outbox in release and runs OutboxDeferrals once; then, unless BENCH_OUTBOX_COST=0, cost.sh:
# the gateway's CPU per deferral over a forwarded call (issue 25 target: at most 5 µs; needs nginx).
#
# Usage: bash bench/outbox/run.sh [OutboxDeferrals options: --seconds N --producers N --in-flight N --dir PATH]
# The outbox goes to a temporary directory on the disk of $TMPDIR (or /tmp) unless --dir names one: put it
# on the disk the gateway's outbox.path will use, since fdatasync's cost is the disk's.
set -euo pipefail
OUTBOX_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$OUTBOX_DIR"
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi
# SwiftPM keeps the path dependency's file list from the last build: forget the plan so new files are seen.
rm -f .build/release.yaml .build/*/release/description.json
printf '==> building in release\n' >&2
swift build -c release --product OutboxDeferrals >/tmp/justgate-outbox-bench-build.log 2>&1 \
    || { cat /tmp/justgate-outbox-bench-build.log >&2; exit 1; }
printf '==> filesystem: %s\n' "$(df -T "${TMPDIR:-/tmp}" | awk 'NR==2 {print $2 " on " $1}')" >&2
.build/release/OutboxDeferrals "$@"
if [ "${BENCH_OUTBOX_COST:-1}" = "1" ]; then
    bash "$OUTBOX_DIR/cost.sh"
fi
