#!/usr/bin/env bash
# HTTP/1.1 keep-alive against HTTP/2 to a TLS upstream, through justgate's libcurl client: what each costs
# per call, to choose `upstream.http_version`'s default. justgate bare (as in bench/ir) forwards
# subscribe.sms to a TLS upstream (nginx offering h2 and http/1.1, reading the body, no delay), once with
# http_version 1.1 and once with 2 (over TLS the same as auto):
#   - instructions per call under callgrind, one site connection, 300 warm-up + 2,000 counted (bench/ir/drive.py);
#   - natively, for each site connection count: CPU seconds (utime + stime) and system calls (perf stat) of the
#     justgate process per call, and the upstream connections it opened (= TLS handshakes), over a fixed number
#     of calls sent by bench/http-version/load.py.
# Usage: bash bench/http-version/run.sh (needs a release build, nginx with its echo module, valgrind, perf)
# Environment: JUSTGATE_BIN, BENCH_HV_CONNECTIONS (default "1 50"), BENCH_HV_CALLS (calls per run, default 20000),
#   BENCH_HV_CALLGRIND=0 skips the callgrind pass. Writes bench/results/http-version.md and .json.
set -euo pipefail

HV_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../run.sh
source "$HV_DIR/../run.sh"
HV_CONNECTIONS="${BENCH_HV_CONNECTIONS:-1 50}"
HV_CALLS="${BENCH_HV_CALLS:-20000}"
HV_CALLGRIND="${BENCH_HV_CALLGRIND:-1}"
WORKERS=1
READY_TIMEOUT_MS=180000

# bench/run.sh's TLS upstream, but reading each request's body before it answers, at once. The echo module's
# answer to a POST whose body it never reads can go out before the body has arrived; over h2 nginx then resets
# the stream (RST_STREAM NO_ERROR), which libcurl 7.88 reports as an error (curl(1) too: 13 of 100 POSTs exit
# 92 against bench/run.sh's upstream with no delay, and under valgrind most calls fail even with 1 ms).
write_tls_upstream_conf() {
  local dir="$1" port="$2"
  UPSTREAM_STATUS_PORT="$(free_port)"
  cat >"$dir/nginx.conf" <<NGINX
load_module /usr/lib/nginx/modules/ngx_http_echo_module.so;
$(nginx_preamble "$dir")
http {
$(nginx_http_common "$dir")
  server {
    listen 127.0.0.1:$port ssl http2 backlog=4096;
    ssl_certificate $TLS_DIR/server.pem;
    ssl_certificate_key $TLS_DIR/server.key;
    if (\$http_x_auth_token != "$UPSTREAM_TOKEN") { return 401 "Invalid token"; }
    location / { echo_read_request_body; echo -n "Subscription created"; }
  }
  server {
    listen 127.0.0.1:$UPSTREAM_STATUS_PORT;
    location = /status { stub_status; }
  }
}
NGINX
}


write_hv_conf() {
  local dir="$1" port="$2" version="$3" key_sha256
  key_sha256="$(printf '%s' "$SITE_KEY" | sha256sum | cut -d' ' -f1)"
  cat >"$dir/justgate.yaml" <<YAML
listen: 127.0.0.1:$port
upstream:
  url: https://127.0.0.1:$UPSTREAM_PORT
  ca_file: $TLS_DIR/ca.pem
  http_version: "$version"
  connect_timeout_ms: 2000
  timeout_ms: 10000
server:
  workers: 1
  max_connections: 1000
sites:
  - id: bench
    key_sha256: "$key_sha256"
    upstream_token: { env: JUST_TOKEN_BENCH }
    phone: { default_country_code: "7", trunk_prefix: "8" }
audit:
  enabled: false
  path: $dir/audit.jsonl
log:
  requests: none
YAML
}

# Starts justgate (under callgrind when $3 is "callgrind") with http_version $2; sets TARGET_PID, TARGET_PORT, TARGET_DIR.
start_hv_justgate() {
  local version="$1" mode="$2" dir port
  dir="$(mktemp -d "$TMP_DIR/hv-$version-$mode.XXXX")"
  chmod 755 "$dir"
  port="$(free_port)"
  write_hv_conf "$dir" "$port" "$version"
  local -a prefix=()
  [[ "$mode" == "callgrind" ]] && prefix=(setarch "$(uname -m)" -R valgrind --tool=callgrind --separate-threads=yes
    --callgrind-out-file="$dir/callgrind.out" --log-file="$dir/valgrind.log")
  SWIFT_DETERMINISTIC_HASHING=1 JUST_TOKEN_BENCH="$UPSTREAM_TOKEN" "${prefix[@]}" "$HV_JUSTGATE" serve \
    --config "$dir/justgate.yaml" >"$dir/stdout.log" 2>&1 &
  TARGET_PID=$!
  echo "$TARGET_PID" >"$TMP_DIR/pids/hv-$version-$mode.pid"
  TARGET_PORT="$port"
  TARGET_DIR="$dir"
  local spawned
  spawned="$(now_ms)"
  until [[ -n "$(ss -Htln "sport = :$port" 2>/dev/null)" ]]; do
    kill -0 "$TARGET_PID" 2>/dev/null || { cat "$dir"/*.log >&2; die "justgate ($version) exited during startup"; }
    (($(now_ms) - spawned <= READY_TIMEOUT_MS)) || die "justgate ($version) did not listen within ${READY_TIMEOUT_MS} ms"
    sleep 0.05
  done
}

upstream_connections() {
  curl -s "http://127.0.0.1:$UPSTREAM_STATUS_PORT/status" | awk 'NR == 3 { print $1 }'
}

main_hv() {
  for tool in valgrind nginx curl python3 perf ss objcopy; do
    command -v "$tool" >/dev/null || die "bench/http-version needs $tool"
  done
  [[ -x "$JUSTGATE_BIN" ]] || die "justgate binary '$JUSTGATE_BIN' not found: run 'swift build -c release --product justgate'"
  TMP_DIR="$(mktemp -d /tmp/justgate-bench-hv.XXXXXX)"
  chmod 755 "$TMP_DIR"
  mkdir -p "$TMP_DIR/pids"
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  HV_JUSTGATE="$TMP_DIR/justgate"
  objcopy --strip-debug "$JUSTGATE_BIN" "$HV_JUSTGATE"
  make_tls_ca
  start_target tls-upstream
  UPSTREAM_PORT="$TARGET_PORT"
  log "TLS upstream (h2 and http/1.1 offered) on 127.0.0.1:$UPSTREAM_PORT"
  local results="$TMP_DIR/results.jsonl" version connections before after
  : >"$results"
  for version in 1.1 2; do
    if [[ "$HV_CALLGRIND" == "1" ]]; then
      start_hv_justgate "$version" callgrind
      log "http_version $version: under callgrind, 300 warm-up + 2000 counted calls"
      timeout 1800 python3 "$BENCH_DIR/ir/drive.py" --port "$TARGET_PORT" --pid "$TARGET_PID" --site-key "$SITE_KEY" \
        --warmup 300 --requests 2000 >"$TARGET_DIR/drive.json" || die "callgrind client failed (logs in $TARGET_DIR)"
      stop_tree "$TARGET_PID"
      python3 "$HV_DIR/load.py" --callgrind-dir "$TARGET_DIR" --version "$version" >>"$results"
    fi
    for connections in $HV_CONNECTIONS; do
      start_hv_justgate "$version" native
      before="$(upstream_connections)"
      log "http_version $version: $connections site connections, $HV_CALLS calls"
      python3 "$HV_DIR/load.py" --port "$TARGET_PORT" --pid "$TARGET_PID" --site-key "$SITE_KEY" --version "$version" \
        --connections "$connections" --calls "$HV_CALLS" >"$TARGET_DIR/load.json" || die "load client failed (logs in $TARGET_DIR)"
      after="$(upstream_connections)"
      python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); r["upstream_connections"]=int(sys.argv[3])-int(sys.argv[2]); print(json.dumps(r))' \
        "$TARGET_DIR/load.json" "$before" "$after" >>"$results"
      stop_tree "$TARGET_PID"
    done
  done
  mkdir -p "$BENCH_DIR/results"
  python3 "$HV_DIR/load.py" --report "$results" --out-dir "$BENCH_DIR/results"
}

main_hv "$@"
