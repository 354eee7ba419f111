#!/usr/bin/env bash
# Draining a backlog without starving live calls (issue 25: live p99 within 1.2x of no-drain): builds
# bench/outbox in release, starts nginx on 127.0.0.1 as the upstream (fixed 200 answers, 401 without the
# token; BENCH_DRAIN_DELAY_MS > 0 delays every answer with Debian's echo module, an upstream with a pace of
# its own), and runs OutboxDrain: 100,000 pending entries put in an outbox, then live-call latency with and
# without the gateway draining them.
#
# Usage: bash bench/outbox/drain.sh [OutboxDrain options: --entries N --seconds N --connections N --pace-ms N
#                                    --rounds N]
# The outboxes go to a temporary directory on the disk of $TMPDIR (or /tmp), removed at the end.
# Environment: BENCH_DRAIN_DELAY_MS (default 0).
set -euo pipefail
OUTBOX_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$OUTBOX_DIR"
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { echo "drain.sh needs nginx (apt-get install nginx)" >&2; exit 1; }
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
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
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
TOKEN="drain-bench-upstream-token"
if [ "$DELAY_MS" -gt 0 ]; then
    MODULE="load_module /usr/lib/nginx/modules/ngx_http_echo_module.so;"
    DELAY="$(awk -v ms="$DELAY_MS" 'BEGIN { printf "%.3f", ms / 1000 }')"
    ANSWER="echo_sleep $DELAY; echo -n \"Subscription created\";"
else
    MODULE=""
    ANSWER="return 200 \"Subscription created\";"
fi
mkdir -p "$WORK/nginx"
cat >"$WORK/nginx/nginx.conf" <<CONF
$MODULE
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  keepalive_requests 10000000;
  server {
    listen 127.0.0.1:$PORT backlog=4096;
    if (\$http_x_auth_token != "$TOKEN") { return 401 "Invalid token"; }
    location / { $ANSWER }
  }
}
CONF
"$NGINX" -p "$WORK/nginx" -e "$WORK/nginx/error.log" -c "$WORK/nginx/nginx.conf" >"$WORK/nginx/stdout.log" 2>&1 &
NGINX_PID=$!
for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    sleep 0.1
done
printf '==> upstream: nginx on 127.0.0.1:%s, answers after %s ms; load average: %s\n' "$PORT" "$DELAY_MS" \
    "$(cut -d' ' -f1-3 /proc/loadavg)" >&2
.build/release/OutboxDrain --upstream "http://127.0.0.1:$PORT" --token "$TOKEN" --dir "$WORK/outbox" "$@"
