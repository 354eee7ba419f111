#!/usr/bin/env bash
# Side-by-side benchmark: justgate against nginx and HAProxy proxying the same calls
# to the same local upstream, so a number for justgate always comes with the number
# a well-tuned off-the-shelf proxy reaches on the same machine at the same moment.
#
# Usage: make bench   (or: bash bench/run.sh)
# Environment:
#   BENCH_DURATION          wrk duration per run (default 10s; wrk syntax: 10s, 1m)
#   BENCH_CONNECTIONS       connection counts to try (default "50 500")
#   BENCH_SCENARIOS         "all" (default) or a list of: action.save subscribe.sms segments.get
#   BENCH_REPEAT            rounds per scenario and connection count (default 1); targets
#                           take turns each round and the table shows each target's
#                           median-throughput round, which steadies numbers on a busy box
#   JUSTGATE_BIN            justgate binary (default .build/release/justgate)
#   BENCH_SKIP_JUSTGATE=1   run only the nginx and HAProxy anchors
#   BENCH_AUDIT             true (default): justgate writes its HMAC-chained audit log (in the run's temp dir);
#                           false measures it without
#   BENCH_FLOOR             1 (default) also measures bench/curl-floor: the cheapest proxy whose
#                           upstream calls go through libcurl, i.e. the ceiling libcurl leaves for
#                           justgate on this machine; 0 skips it (it needs cc and libcurl's headers)
#   BENCH_NGINX_KEEPALIVE   idle upstream connections each nginx worker keeps (default 1024: with 64, nginx
#                           opens and closes a connection per request beyond 64 and halves its own throughput)
#   BENCH_IDLE_CONNECTIONS  idle keep-alive connections held by idle_connections.py
#                           (default 10000; 0 skips that test)
#   BENCH_MALLOCS           1 (default) counts justgate's malloc calls per request with a perf uprobe on
#                           libc's malloc, when perf is installed and may add probes (root); 0 skips it
#   BENCH_COSTS             1 (default) also runs justgate-bare: justgate with its optional stages off (no
#                           rate-limit policy, no audit log), so the table shows what they cost per request
#   BENCH_REDIS             1 (default) also runs justgate-redis: the same site policy counted in a local
#                           redis-server (started here; needs Debian's redis-server); 0 skips it
#   BENCH_KEYS              1 (default) measures the memory limiter's bytes per key (justgate-keys: a per-IP
#                           policy and a new client IP in every request, for BENCH_KEYS_DURATION, default 20s)
#   BENCH_TLS               1 (default) also runs the deployment shape: every scenario through an upstream over TLS (a CA made
#                           here) that offers h2 and http/1.1 and answers each call after BENCH_TLS_DELAY_MS (20);
#                           nginx, HAProxy and justgate verify its certificate; a column per target counts the
#                           upstream connections (= TLS handshakes) opened per 1,000 calls. 0 skips it;
#                           "only" runs just this pass
#   BENCH_TLS_CONNECTIONS   connection counts for the deployment shape (default: BENCH_CONNECTIONS)
#   BENCH_AUDIT_COST        1 (default) also runs the audit-cost pass: justgate (audit log on) and justgate-noaudit (the
#                           same config with audit.enabled: false) side by side, both at the same fixed offered rate
#                           (bench/wrk/subscribe.sms.paced.lua, one wrk each), BENCH_AUDIT_COST_ROUNDS rounds, both
#                           started afresh each round; 0 skips it; "only" runs just this pass (with the plain upstream it
#                           needs). BENCH_TLS=only skips it.
#   BENCH_AUDIT_COST_CONNECTIONS  wrk connections per variant in that pass (default 50)
#   BENCH_AUDIT_COST_PACE_MS      whole ms each connection waits after an answer before the next request (default 5)
#   BENCH_AUDIT_COST_DURATION     wrk duration of each round (default 10s)
#   BENCH_AUDIT_COST_ROUNDS       its rounds (default 12)
#   BENCH_OUTBOX            1 (default) also runs bench/outbox: deferrals per second of the outbox's file backend
#                           with group fsync (issue 25 target: >= 20,000/s), in the run's temp dir; 0 skips it
#   BENCH_OUTBOX_DRAIN      1 (default) also runs bench/outbox/drain.sh: live-call p99 while the gateway drains 100,000
#                           pending outbox entries to a local nginx, against no drain (issue 25: within 1.2x), once with
#                           an upstream answering at once and once after 20 ms (about 3 minutes each); 0 skips it
#   BENCH_KEEP_TMP=1        keep the temporary folder (configs, logs, raw wrk output)
#
# Everything listens on 127.0.0.1 on ports picked at run time. Each measured run
# starts its target afresh, so the VmHWM read at the end of the run is that run's
# peak RSS (see bench/README.md). Every process started here is stopped on exit.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DURATION="${BENCH_DURATION:-10s}"
CONNECTIONS="${BENCH_CONNECTIONS:-50 500}"
SCENARIOS="${BENCH_SCENARIOS:-all}"
REPEAT="${BENCH_REPEAT:-1}"
JUSTGATE_BIN="${JUSTGATE_BIN:-.build/release/justgate}"
SKIP_JUSTGATE="${BENCH_SKIP_JUSTGATE:-0}"
FLOOR="${BENCH_FLOOR:-1}"
MALLOCS="${BENCH_MALLOCS:-1}"
COSTS="${BENCH_COSTS:-1}"
REDIS="${BENCH_REDIS:-1}"
REDIS_PORT=""
FLOOR_BIN=""
IDLE_CONNECTIONS="${BENCH_IDLE_CONNECTIONS:-10000}"
NGINX_KEEPALIVE="${BENCH_NGINX_KEEPALIVE:-1024}"
TLS="${BENCH_TLS:-1}"
TLS_CONNECTIONS="${BENCH_TLS_CONNECTIONS:-$CONNECTIONS}"
TLS_DELAY_MS="${BENCH_TLS_DELAY_MS:-20}"
KEYS="${BENCH_KEYS:-1}"
AUDIT_COST="${BENCH_AUDIT_COST:-1}"
AUDIT_COST_CONNECTIONS="${BENCH_AUDIT_COST_CONNECTIONS:-50}"
AUDIT_COST_PACE_MS="${BENCH_AUDIT_COST_PACE_MS:-5}"
AUDIT_COST_DURATION="${BENCH_AUDIT_COST_DURATION:-10s}"
AUDIT_COST_ROUNDS="${BENCH_AUDIT_COST_ROUNDS:-12}"
# Set while the audit-cost pass runs: its justgate variant then writes the audit log whatever BENCH_AUDIT says.
AUDIT_COST_PASS=0
if [[ "$AUDIT_COST" == "only" ]]; then
  # Just the audit-cost pass and the plain upstream; BENCH_TLS=only still adds the deployment shape.
  [[ "$TLS" == "only" ]] || TLS=0
  FLOOR=0 REDIS=0 MALLOCS=0 KEYS=0 IDLE_CONNECTIONS=0
fi
# Set while the deployment-shape pass runs: the targets' upstream is then https:// on UPSTREAM_PORT,
# trusted through TLS_DIR/ca.pem, and its stub_status answers on UPSTREAM_STATUS_PORT.
TLS_PASS=0
TLS_DIR=""
UPSTREAM_STATUS_PORT=""
WORKERS=2
WRK_THREADS=2
READY_TIMEOUT_MS=10000

# Credentials of the benchmark only: the site key sites send, the token upstream expects.
SITE_KEY="bench-site-key-7f3c9a2e51d84b06"
UPSTREAM_TOKEN="bench-upstream-token-c41e8d7a90b2"

ALL_SCENARIOS="action.save subscribe.sms segments.get"
[[ "$SCENARIOS" == "all" ]] && SCENARIOS="$ALL_SCENARIOS"
TARGETS="nginx haproxy"
[[ "$FLOOR" == "1" ]] && TARGETS="$TARGETS curlfloor"
if [[ "$SKIP_JUSTGATE" != "1" ]]; then
  TARGETS="$TARGETS justgate"
  [[ "$COSTS" == "1" ]] && TARGETS="$TARGETS justgate-bare"
  [[ "$REDIS" == "1" ]] && TARGETS="$TARGETS justgate-redis"
fi

log() { printf '[bench] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- tools -------------------------------------------------------------------

install_missing_tools() {
  local missing=()
  command -v nginx >/dev/null || missing+=(nginx)
  command -v haproxy >/dev/null || missing+=(haproxy)
  command -v wrk >/dev/null || missing+=(wrk)
  command -v curl >/dev/null || missing+=(curl)
  command -v pgrep >/dev/null || missing+=(procps)
  command -v python3 >/dev/null || missing+=(python3)
  command -v openssl >/dev/null || missing+=(openssl)
  [[ "$TLS" == "0" || -f /usr/lib/nginx/modules/ngx_http_echo_module.so ]] || missing+=(libnginx-mod-http-echo)
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

check_inputs() {
  local scenario
  for scenario in $SCENARIOS; do
    [[ -f "$BENCH_DIR/wrk/$scenario.lua" ]] || die "unknown scenario '$scenario' (known: $ALL_SCENARIOS)"
  done
  if [[ "$SKIP_JUSTGATE" != "1" && ! -x "$JUSTGATE_BIN" ]]; then
    die "justgate binary '$JUSTGATE_BIN' not found: run 'swift build -c release' or set JUSTGATE_BIN (BENCH_SKIP_JUSTGATE=1 runs only nginx and HAProxy)"
  fi
  [[ "$REPEAT" =~ ^[1-9][0-9]*$ ]] || die "BENCH_REPEAT '$REPEAT' must be a positive whole number"
  [[ "$TLS" =~ ^(0|1|only)$ ]] || die "BENCH_TLS '$TLS' must be 0, 1 or only"
  if [[ "$TLS" != "0" && ! -f /usr/lib/nginx/modules/ngx_http_echo_module.so ]]; then
    die "BENCH_TLS needs nginx's echo module for the upstream's delay (apt install libnginx-mod-http-echo)"
  fi
  [[ "$DURATION" =~ ^[0-9]+[smh]?$ ]] || die "BENCH_DURATION '$DURATION' must look like 10, 10s, 1m or 1h"
  [[ "$AUDIT_COST" =~ ^(0|1|only)$ ]] || die "BENCH_AUDIT_COST '$AUDIT_COST' must be 0, 1 or only"
  if [[ "$AUDIT_COST" == "only" && "$SKIP_JUSTGATE" == "1" ]]; then
    die "BENCH_AUDIT_COST=only measures justgate, so it cannot be combined with BENCH_SKIP_JUSTGATE=1"
  fi
  [[ "$AUDIT_COST_CONNECTIONS" =~ ^[1-9][0-9]*$ ]] ||
    die "BENCH_AUDIT_COST_CONNECTIONS '$AUDIT_COST_CONNECTIONS' must be a positive whole number"
  [[ "$AUDIT_COST_PACE_MS" =~ ^[0-9]+$ ]] ||
    die "BENCH_AUDIT_COST_PACE_MS '$AUDIT_COST_PACE_MS' must be a whole number of milliseconds (wrk's delay() has no finer unit)"
  [[ "$AUDIT_COST_DURATION" =~ ^[0-9]+[smh]?$ ]] ||
    die "BENCH_AUDIT_COST_DURATION '$AUDIT_COST_DURATION' must look like 10, 10s, 1m or 1h"
  [[ "$AUDIT_COST_ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_AUDIT_COST_ROUNDS '$AUDIT_COST_ROUNDS' must be a positive whole number"
}

# A wrk duration (default BENCH_DURATION) in whole seconds, for the outer `timeout` bound.
duration_seconds() {
  local duration="${1:-$DURATION}"
  local n="${duration%[smh]}"
  case "$duration" in
    *m) echo $((n * 60)) ;;
    *h) echo $((n * 3600)) ;;
    *) echo "$n" ;;
  esac
}

# A port nobody listens on right now; binding to port 0 lets the kernel choose.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

now_ms() { local t="${EPOCHREALTIME/./}"; echo $((t / 1000)); }

# --- process bookkeeping -------------------------------------------------------

TMP_DIR=""

cleanup() {
  local pidfile
  if [[ -n "$TMP_DIR" && -d "$TMP_DIR/pids" ]]; then
    for pidfile in "$TMP_DIR"/pids/*.pid; do
      [[ -f "$pidfile" ]] && stop_tree "$(cat "$pidfile")"
      rm -f "$pidfile"
    done
  fi
  if [[ -n "$TMP_DIR" && "${BENCH_KEEP_TMP:-0}" != "1" ]]; then
    rm -rf "$TMP_DIR"
  elif [[ -n "$TMP_DIR" ]]; then
    log "kept temporary files in $TMP_DIR"
  fi
}

# The pid and all its descendants (nginx master and workers).
tree_pids() {
  local pid="$1" child
  [[ -d "/proc/$pid" ]] || return 0
  echo "$pid"
  for child in $(pgrep -P "$pid" || true); do tree_pids "$child"; done
}

# Sum of one /proc/<pid>/status field (in kB) over a process tree.
tree_status_kib() {
  local field="$1" pid="$2" total=0 p value
  for p in $(tree_pids "$pid"); do
    value="$(awk -v key="$field:" '$1 == key { print $2 }' "/proc/$p/status" 2>/dev/null || true)"
    total=$((total + ${value:-0}))
  done
  echo "$total"
}

# User+system CPU seconds used so far by a process tree.
tree_cpu_seconds() {
  local pid="$1" ticks=0 p stat rest
  local -a fields
  for p in $(tree_pids "$pid"); do
    stat="$(cat "/proc/$p/stat" 2>/dev/null || true)"
    [[ -n "$stat" ]] || continue
    rest="${stat##*) }"                      # fields from 3 on; comm may contain spaces
    read -r -a fields <<<"$rest"
    ticks=$((ticks + fields[11] + fields[12])) # utime, stime (fields 14 and 15)
  done
  awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}

# The thread id of justgate's audit writer (the task whose comm is jg-audit); nothing when it has none.
audit_writer_tid() {
  local pid="$1" task
  for task in /proc/"$pid"/task/*; do
    if [[ "$(cat "$task/comm" 2>/dev/null || true)" == "jg-audit" ]]; then
      echo "${task##*/}"
      return 0
    fi
  done
  return 0
}

# User+system CPU seconds used so far by one thread, or null when there is no such thread.
thread_cpu_seconds() {
  local pid="$1" tid="$2" stat rest
  local -a fields
  stat="$(cat "/proc/$pid/task/$tid/stat" 2>/dev/null || true)"
  if [[ -z "$tid" || -z "$stat" ]]; then echo null; return 0; fi
  rest="${stat##*) }"
  read -r -a fields <<<"$rest"
  awk -v t=$((fields[11] + fields[12])) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}

stop_tree() {
  local pid="$1" pids i
  pids="$(tree_pids "$pid")"
  [[ -n "$pids" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# --- configuration files -----------------------------------------------------

fd_limit() { ulimit -n; }

# nginx allocates all worker_connections at start, which would count as memory in
# use; 4096 per worker covers 500 clients plus their upstream connections. The idle
# test raises it to what the open-file limit allows.
NGINX_CONNECTIONS=4096

nginx_preamble() {
  local dir="$1"
  cat <<EOF
daemon off;
master_process on;
worker_processes $WORKERS;
worker_rlimit_nofile $(fd_limit);
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections $NGINX_CONNECTIONS; }
EOF
}

nginx_http_common() {
  local dir="$1"
  cat <<EOF
  access_log off;
  default_type text/plain;
  client_body_temp_path $dir/client_body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  keepalive_requests 10000000;
  keepalive_timeout 120s;
EOF
}

# The stand-in for the profiles API: fixed answers, and 401 unless the injected token
# is the real one, so a proxy that forgets to swap the key shows up as non-2xx.
write_upstream_conf() {
  local dir="$1" port="$2"
  cat >"$dir/nginx.conf" <<EOF
$(nginx_preamble "$dir")
http {
$(nginx_http_common "$dir")
  server {
    listen 127.0.0.1:$port backlog=4096;
    if (\$http_x_auth_token != "$UPSTREAM_TOKEN") { return 401 "Invalid token"; }
    location = /api/user/v1/action/ { return 200 "Request accepted"; }
    location = /api/user/v1/subscription/subscribe/sms { return 200 "Subscription created"; }
    location = /api/user/v1/info/segment/ { default_type application/json; return 200 "[35,36]"; }
    location / { return 200 "OK"; }
  }
}
EOF
}

# The deployment shape's upstream: TLS with a certificate for 127.0.0.1 and localhost signed by a CA
# made here, h2 and http/1.1 offered by ALPN, every answer after a fixed delay (echo_sleep from
# Debian's libnginx-mod-http-echo), 401 unless the injected token is the real one. stub_status on a
# plain loopback port counts the connections it accepted: each one is a TLS handshake.
make_tls_ca() {
  TLS_DIR="$TMP_DIR/tls"
  mkdir -p "$TLS_DIR"
  local curve=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$TLS_DIR/ext.cnf"
  (cd "$TLS_DIR" &&
    openssl req -x509 "${curve[@]}" -keyout ca.key -out ca.pem -days 2 -subj "/CN=justgate bench CA" &&
    openssl req "${curve[@]}" -keyout server.key -out server.csr -subj "/CN=localhost" &&
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile ext.cnf) \
    >"$TLS_DIR/openssl.log" 2>&1 || die "openssl could not make the bench CA (see $TLS_DIR/openssl.log)"
}

write_tls_upstream_conf() {
  local dir="$1" port="$2" delay
  delay="$(awk -v ms="$TLS_DELAY_MS" 'BEGIN { printf "%.3f", ms / 1000 }')"
  UPSTREAM_STATUS_PORT="$(free_port)"
  cat >"$dir/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_http_echo_module.so;
$(nginx_preamble "$dir")
http {
$(nginx_http_common "$dir")
  server {
    listen 127.0.0.1:$port ssl http2 backlog=4096;
    ssl_certificate $TLS_DIR/server.pem;
    ssl_certificate_key $TLS_DIR/server.key;
    if (\$http_x_auth_token != "$UPSTREAM_TOKEN") { return 401 "Invalid token"; }
    location = /api/user/v1/action/ { echo_sleep $delay; echo -n "Request accepted"; }
    location = /api/user/v1/subscription/subscribe/sms { echo_sleep $delay; echo -n "Subscription created"; }
    location = /api/user/v1/info/segment/ { default_type application/json; echo_sleep $delay; echo -n "[35,36]"; }
    location / { echo_sleep $delay; echo -n "OK"; }
  }
  server {
    listen 127.0.0.1:$UPSTREAM_STATUS_PORT;
    location = /status { stub_status; }
  }
}
EOF
}

# "<connections accepted> <requests>" so far, from the TLS upstream's stub_status.
upstream_counters() {
  curl -s --max-time 2 "http://127.0.0.1:$UPSTREAM_STATUS_PORT/status" | awk 'NR == 3 { print $1, $3 }'
}

write_nginx_proxy_conf() {
  local dir="$1" port="$2"
  cat >"$dir/nginx.conf" <<EOF
$(nginx_preamble "$dir")
http {
$(nginx_http_common "$dir")
  upstream api {
    server 127.0.0.1:$UPSTREAM_PORT;
    keepalive $NGINX_KEEPALIVE;
    keepalive_requests 10000000;
  }
  server {
    listen 127.0.0.1:$port backlog=4096;
    location / {
$(if ((TLS_PASS)); then cat <<TLS
      proxy_pass https://api;
      proxy_ssl_verify on;
      proxy_ssl_trusted_certificate $TLS_DIR/ca.pem;
      proxy_ssl_name localhost;
      proxy_ssl_session_reuse on;
TLS
else echo "      proxy_pass http://api;"; fi)
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-AUTH-TOKEN "$UPSTREAM_TOKEN";
    }
  }
}
EOF
}

# HAProxy refuses to start unless 2 x maxconn file descriptors fit under the limit.
haproxy_maxconn() { echo $(($(fd_limit) / 2 - 100)); }

write_haproxy_conf() {
  local dir="$1" port="$2"
  cat >"$dir/haproxy.cfg" <<EOF
global
  nbthread $WORKERS
  maxconn $(haproxy_maxconn)

defaults
  mode http
  option http-keep-alive
  http-reuse always
  maxconn $(haproxy_maxconn)
  timeout connect 2s
  timeout client 120s
  timeout server 30s
  timeout http-keep-alive 120s

frontend bench
  bind 127.0.0.1:$port
  http-request set-header X-AUTH-TOKEN "$UPSTREAM_TOKEN"
  default_backend api

backend api
  server upstream 127.0.0.1:$UPSTREAM_PORT$(((TLS_PASS)) && echo " ssl verify required ca-file $TLS_DIR/ca.pem verifyhost localhost alpn h2,http/1.1")
EOF
}

# justgate as operators run it: a site-wide rate-limit policy on (generous enough never to refuse),
# counted in memory, or in Redis for justgate-redis, and the audit log on (BENCH_AUDIT=false turns it
# off); justgate-bare has neither, so the difference is what those stages cost. justgate-noaudit is
# justgate with only the audit log off, for the audit-cost pass (where justgate always has it on).
write_justgate_conf() {
  local dir="$1" port="$2" variant="$3" key_sha256 limits="" rate_limit="" audit="${BENCH_AUDIT:-true}"
  [[ "$variant" == "justgate-bare" || "$variant" == "justgate-noaudit" ]] && audit=false
  [[ "$variant" == "justgate" ]] && ((AUDIT_COST_PASS)) && audit=true
  key_sha256="$(printf '%s' "$SITE_KEY" | sha256sum | cut -d' ' -f1)"
  if [[ "$variant" != "justgate-bare" ]]; then
    limits="    limits:
      - { name: bench-site, scope: site, rate: 1000000/s, burst: 1000000 }"
  fi
  if [[ "$variant" == "justgate-keys" ]]; then
    limits="    limits:
      - { name: per-ip, scope: ip, operations: [profile.create], rate: 1000000/s, burst: 1000000 }"
    rate_limit="rate_limit: { backend: memory, max_keys: 4000000 }"
  fi
  if [[ "$variant" == "justgate-redis" ]]; then
    rate_limit="rate_limit: { backend: redis, redis_url: \"redis://127.0.0.1:$REDIS_PORT/0\", redis_timeout_ms: 50, on_backend_error: deny }"
  fi
  cat >"$dir/justgate.yaml" <<EOF
listen: 127.0.0.1:$port
upstream:
$(if ((TLS_PASS)); then printf '  url: https://127.0.0.1:%s\n  ca_file: %s' "$UPSTREAM_PORT" "$TLS_DIR/ca.pem"
else printf '  url: http://127.0.0.1:%s' "$UPSTREAM_PORT"; fi)
  connect_timeout_ms: 2000
  timeout_ms: 10000
server:
  workers: $WORKERS
  max_connections: 20000
sites:
  - id: bench
    key_sha256: "$key_sha256"
    upstream_token: { env: JUST_TOKEN_BENCH }
    phone: { default_country_code: "7", trunk_prefix: "8" }
$limits
$rate_limit
audit:
  enabled: $audit
  path: $dir/audit/audit.jsonl
  hmac_key: { env: JUST_AUDIT_KEY_BENCH }
EOF
}

# A redis-server for justgate-redis: loopback, no persistence, its own folder.
start_redis() {
  local dir
  command -v redis-server >/dev/null || die "justgate-redis needs redis-server (apt install redis-server); BENCH_REDIS=0 skips it"
  dir="$(mktemp -d "$TMP_DIR/redis.XXXX")"
  REDIS_PORT="$(free_port)"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" \
    --logfile "$dir/redis.log" --daemonize no >/dev/null 2>&1 &
  echo $! >"$TMP_DIR/pids/redis.pid"
  for _ in $(seq 100); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  die "redis-server did not answer on 127.0.0.1:$REDIS_PORT"
}

# The libcurl floor is C, built here so that it needs no more than cc and libcurl's headers.
build_floor() {
  FLOOR_BIN="$TMP_DIR/curl-floor"
  ${CC:-cc} -O2 -o "$FLOOR_BIN" "$BENCH_DIR/curl-floor/floor.c" $(pkg-config --cflags --libs libcurl 2>/dev/null || echo -lcurl) -lpthread ||
    die "could not build bench/curl-floor/floor.c (needs cc and libcurl4-openssl-dev; BENCH_FLOOR=0 skips it)"
}

# --- starting and stopping targets ------------------------------------------

TARGET_PID=""
TARGET_PORT=""
TARGET_COLD_MS=""
TARGET_DIR=""

# Starts a fresh instance of a server, on a new port, and waits until it answers.
# Sets TARGET_PID, TARGET_PORT, TARGET_DIR (its configs and logs) and TARGET_COLD_MS (spawn to first HTTP answer).
start_target() {
  local name="$1" dir port spawned
  dir="$(mktemp -d "$TMP_DIR/$name.XXXX")"
  chmod 755 "$dir"
  TARGET_DIR="$dir"
  port="$(free_port)"
  case "$name" in
    upstream) write_upstream_conf "$dir" "$port" ;;
    tls-upstream) write_tls_upstream_conf "$dir" "$port" ;;
    nginx) write_nginx_proxy_conf "$dir" "$port" ;;
    haproxy) write_haproxy_conf "$dir" "$port" ;;
    justgate | justgate-bare | justgate-redis | justgate-keys | justgate-noaudit) write_justgate_conf "$dir" "$port" "$name" ;;
    curlfloor) ;;
  esac
  spawned="$(now_ms)"
  case "$name" in
    upstream | tls-upstream | nginx) nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" >"$dir/stdout.log" 2>&1 & ;;
    haproxy) haproxy -db -f "$dir/haproxy.cfg" >"$dir/stdout.log" 2>&1 & ;;
    justgate | justgate-bare | justgate-redis | justgate-keys | justgate-noaudit)
      JUST_TOKEN_BENCH="$UPSTREAM_TOKEN" JUST_AUDIT_KEY_BENCH="bench-audit-key-0123456789abcdef" "$JUSTGATE_BIN" serve \
        --config "$dir/justgate.yaml" >"$dir/stdout.log" 2>&1 & ;;
    curlfloor) "$FLOOR_BIN" "$port" "http://127.0.0.1:$UPSTREAM_PORT" "$UPSTREAM_TOKEN" "$WORKERS" >"$dir/stdout.log" 2>&1 & ;;
  esac
  TARGET_PID=$!
  echo "$TARGET_PID" >"$TMP_DIR/pids/$name.pid"
  TARGET_PORT="$port"
  wait_until_answering "$name" "$dir" "$spawned"
}

wait_until_answering() {
  local name="$1" dir="$2" spawned="$3" code scheme=http
  [[ "$name" == "tls-upstream" ]] && scheme=https
  while true; do
    code="$(curl -s -k -o /dev/null -w '%{http_code}' --max-time 1 "$scheme://127.0.0.1:$TARGET_PORT/" || true)"
    if [[ "$code" != "000" && -n "$code" ]]; then
      TARGET_COLD_MS=$(($(now_ms) - spawned))
      return 0
    fi
    if ! kill -0 "$TARGET_PID" 2>/dev/null; then
      cat "$dir"/*.log >&2 || true
      die "$name exited during startup (its output is above; BENCH_KEEP_TMP=1 keeps its config)"
    fi
    if (($(now_ms) - spawned > READY_TIMEOUT_MS)); then
      cat "$dir"/*.log >&2 || true
      die "$name did not answer on 127.0.0.1:$TARGET_PORT within ${READY_TIMEOUT_MS} ms"
    fi
    sleep 0.005
  done
}

stop_target() {
  local name="$1"
  stop_tree "$TARGET_PID"
  rm -f "$TMP_DIR/pids/$name.pid"
}

# --- measuring -----------------------------------------------------------------

# Prints the JSON object from the line "<marker> {...}" of a wrk output file, or null.
marked_json() {
  local marker="$1" file="$2" line
  line="$(grep -m1 "^$marker " "$file" || true)"
  if [[ -n "$line" ]]; then echo "${line#"$marker" }"; else echo null; fi
}

run_one() {
  local scenario="$1" connections="$2" target="$3" round="$4"
  local script="$BENCH_DIR/wrk/$scenario.lua" out="$TMP_DIR/wrk.$scenario.$connections.$target.$round.$TLS_PASS"
  local url peak_kib cpu_before cpu_after wrk_status=0 key="$SITE_KEY" counted_before="" counted_after="" row="$scenario"

  if [[ "$target" == "upstream-direct" ]]; then
    # wrk straight to the TLS upstream, with the token itself: what the upstream answers with no proxy in
    # between, to show it is not what limits the proxies.
    TARGET_PID="$UPSTREAM_PID"
    TARGET_PORT="$UPSTREAM_PORT"
    TARGET_COLD_MS=0
    url="https://127.0.0.1:$UPSTREAM_PORT"
    key="$UPSTREAM_TOKEN"
  else
    start_target "$target"
    url="http://127.0.0.1:$TARGET_PORT"
  fi
  ((TLS_PASS)) && row="tls/$scenario"
  # One second on one connection: warms the target up and checks the answer is 2xx.
  BENCH_SITE_KEY="$key" BENCH_PROBE=1 timeout 30 \
    wrk -t1 -c1 -d1s -s "$script" "$url" >"$out.probe" 2>&1 || true
  ((TLS_PASS)) && counted_before="$(upstream_counters)"
  cpu_before="$(tree_cpu_seconds "$TARGET_PID")"
  BENCH_SITE_KEY="$key" timeout $(($(duration_seconds) + 30)) \
    wrk -t"$WRK_THREADS" -c"$connections" -d"$DURATION" --latency -s "$script" "$url" >"$out.run" 2>&1 ||
    wrk_status=$?
  cpu_after="$(tree_cpu_seconds "$TARGET_PID")"
  ((TLS_PASS)) && counted_after="$(upstream_counters)"
  peak_kib="$(tree_status_kib VmHWM "$TARGET_PID")"
  [[ "$target" == "upstream-direct" ]] || stop_target "$target"
  ((wrk_status == 0)) || log "wrk exited with $wrk_status for $target $row c=$connections (see $out.run)"

  printf '{"scenario":"%s","connections":%d,"target":"%s","round":%d,"cold_start_ms":%d,"peak_rss_kib":%d,"cpu_seconds":%s,"result":%s,"probe":%s,"upstream":%s}\n' \
    "$row" "$connections" "$target" "$round" "$TARGET_COLD_MS" "$peak_kib" \
    "$(awk -v a="$cpu_before" -v b="$cpu_after" 'BEGIN { printf "%.2f", b - a }')" \
    "$(marked_json BENCH_RESULT "$out.run")" "$(marked_json BENCH_PROBE "$out.probe")" \
    "$(upstream_delta "$counted_before" "$counted_after")" >>"$TMP_DIR/runs.jsonl"
}

# The TLS upstream's connections accepted and requests answered between two upstream_counters readings,
# as JSON; null outside the deployment-shape pass.
upstream_delta() {
  local before="$1" after="$2"
  if [[ -z "$before" || -z "$after" ]]; then echo null; return 0; fi
  read -r accepts_before requests_before <<<"$before"
  read -r accepts_after requests_after <<<"$after"
  # stub_status counts its own request too: one per reading.
  printf '{"connections":%d,"requests":%d}' $((accepts_after - accepts_before - 1)) $((requests_after - requests_before - 1))
}

# justgate's libc malloc calls per request, counted by a perf uprobe while one wrk thread keeps
# 10 connections busy for 3 seconds per scenario. Skipped, with a note, where perf cannot do it.
count_mallocs() {
  local libc added=0 scenario out stat requests calls
  if ! command -v perf >/dev/null; then
    log "perf is not installed (apt install linux-perf): no malloc count"
    echo '{"skipped":"perf is not installed"}' >"$TMP_DIR/mallocs.json"
    return 0
  fi
  libc="$(ldd "$JUSTGATE_BIN" | awk '/libc\.so\.6/ {print $3}')"
  if ! perf probe -l 2>/dev/null | grep -q 'probe_libc:malloc\b'; then
    if ! perf probe -q -x "$libc" malloc >/dev/null 2>&1; then
      log "perf cannot add a uprobe on malloc here (needs root): no malloc count"
      echo '{"skipped":"perf could not add a uprobe on malloc (needs root)"}' >"$TMP_DIR/mallocs.json"
      return 0
    fi
    added=1
  fi
  printf '{' >"$TMP_DIR/mallocs.json"
  local first=1
  for scenario in $SCENARIOS; do
    start_target justgate
    out="$TMP_DIR/mallocs.$scenario"
    BENCH_SITE_KEY="$SITE_KEY" timeout 30 wrk -t1 -c10 -d1s -s "$BENCH_DIR/wrk/$scenario.lua" "http://127.0.0.1:$TARGET_PORT" >/dev/null 2>&1 || true
    perf stat -x, -e probe_libc:malloc -p "$TARGET_PID" -o "$out.perf" -- sleep 3.5 &
    stat=$!
    sleep 0.2
    BENCH_SITE_KEY="$SITE_KEY" timeout 30 wrk -t1 -c10 -d3s -s "$BENCH_DIR/wrk/$scenario.lua" "http://127.0.0.1:$TARGET_PORT" >"$out.wrk" 2>&1 || true
    wait "$stat" || true
    stop_target justgate
    requests="$(awk '/requests in/ {print $1}' "$out.wrk")"
    calls="$(awk -F, '/probe_libc:malloc/ {print $1}' "$out.perf")"
    ((first)) || printf ',' >>"$TMP_DIR/mallocs.json"
    first=0
    printf '"%s":{"requests":%s,"malloc_calls":%s}' "$scenario" "${requests:-0}" "${calls:-0}" >>"$TMP_DIR/mallocs.json"
  done
  printf '}\n' >>"$TMP_DIR/mallocs.json"
  ((added)) && perf probe -q -d probe_libc:malloc >/dev/null 2>&1 || true
}

# Memory per rate-limit key: a per-IP policy and profile.create with a new address in every request,
# so each answered request adds one key; RSS before and after, divided by the requests.
measure_limiter_keys() {
  local before after requests out="$TMP_DIR/keys"
  start_target justgate-keys
  BENCH_SITE_KEY="$SITE_KEY" timeout 30 wrk -t1 -c4 -d1s -s "$BENCH_DIR/wrk/distinct-ips.lua" "http://127.0.0.1:$TARGET_PORT" >/dev/null 2>&1 || true
  before="$(tree_status_kib VmRSS "$TARGET_PID")"
  BENCH_SITE_KEY="$SITE_KEY" timeout 90 wrk -t2 -c50 -d"${BENCH_KEYS_DURATION:-20s}" -s "$BENCH_DIR/wrk/distinct-ips.lua" \
    "http://127.0.0.1:$TARGET_PORT" >"$out.wrk" 2>&1 || true
  after="$(tree_status_kib VmRSS "$TARGET_PID")"
  stop_target justgate-keys
  requests="$(awk '/requests in/ {print $1}' "$out.wrk")"
  printf '{"requests":%s,"rss_before_kib":%s,"rss_after_kib":%s}\n' "${requests:-0}" "$before" "$after" >"$TMP_DIR/keys.json"
}

run_idle() {
  local target="$1" count="$IDLE_CONNECTIONS" result
  if [[ "$target" == "haproxy" ]] && ((count > $(haproxy_maxconn) - 50)); then
    count=$(($(haproxy_maxconn) - 50))
    log "haproxy can take only $(haproxy_maxconn) connections under the open-file limit $(fd_limit): holding $count"
  fi
  NGINX_CONNECTIONS=$(($(fd_limit) - 200))
  start_target "$target"
  NGINX_CONNECTIONS=4096
  result="$(timeout 300 python3 "$BENCH_DIR/idle_connections.py" \
    --port "$TARGET_PORT" --pid "$TARGET_PID" --count "$count" --requests 200 --timeout 240 \
    --path "/api/user/v1/info/segment/?juid=de6f0132ea9e412599ae31262c45633b" \
    --header "X-AUTH-TOKEN: $SITE_KEY" || true)"
  stop_target "$target"
  [[ -n "$result" ]] || result='{"error":"idle_connections.py printed nothing"}'
  printf '{"target":"%s","idle":%s}\n' "$target" "$result" >>"$TMP_DIR/idle.jsonl"
}

# The deployment shape: the same scenarios through the TLS upstream with its fixed delay, for the
# anchors and justgate (the libcurl floor and the justgate variants stay with the loopback pass), and
# wrk straight to the upstream as the reference row.
run_tls_pass() {
  local scenario connections target round tls_targets="upstream-direct nginx haproxy"
  [[ "$SKIP_JUSTGATE" == "1" ]] || tls_targets="$tls_targets justgate"
  make_tls_ca
  start_target tls-upstream
  UPSTREAM_PID="$TARGET_PID"
  UPSTREAM_PORT="$TARGET_PORT"
  TLS_PASS=1
  log "TLS upstream (h2, http/1.1; ${TLS_DELAY_MS} ms per answer) on 127.0.0.1:$UPSTREAM_PORT; targets: $tls_targets; connections $TLS_CONNECTIONS"
  for scenario in $SCENARIOS; do
    for connections in $TLS_CONNECTIONS; do
      for ((round = 1; round <= REPEAT; round++)); do
        for target in $tls_targets; do
          log "tls/$scenario c=$connections $target (round $round/$REPEAT)"
          run_one "$scenario" "$connections" "$target" "$round"
        done
      done
    done
  done
  TLS_PASS=0
  UPSTREAM_PORT="$PLAIN_UPSTREAM_PORT"
}

# What the audit log alone costs. justgate and justgate-noaudit differ only in audit.enabled. Both run at
# the same time, each loaded by its own wrk (one thread) at the same steady rate (each connection pauses
# BENCH_AUDIT_COST_PACE_MS after every answer), and their CPU is read over the same seconds: whatever the
# machine does meanwhile (a VM's neighbours, frequency, the upstream) falls on both alike. Taking turns
# instead, one after the other, left run-to-run noise of about 2.5 us per request, the size of the budget
# being measured; side by side, the per-round differences stay within a few tenths of a microsecond.
run_audit_cost_pass() {
  local round
  AUDIT_COST_PASS=1
  log "audit cost: justgate and justgate-noaudit side by side, subscribe.sms paced ${AUDIT_COST_PACE_MS} ms," \
    "c=$AUDIT_COST_CONNECTIONS each, $AUDIT_COST_DURATION x $AUDIT_COST_ROUNDS rounds"
  ((AUDIT_COST_ROUNDS % 2 == 0)) ||
    log "audit cost: $AUDIT_COST_ROUNDS rounds is odd, so justgate goes first once more than its twin (the order alternates; an even count balances it)"
  for ((round = 1; round <= AUDIT_COST_ROUNDS; round++)); do
    log "audit cost: round $round/$AUDIT_COST_ROUNDS"
    run_paced_pair "$round"
  done
  AUDIT_COST_PASS=0
}

# One round of the audit-cost pass: both variants started afresh, a 1-second unpaced check of each on one
# connection (warm-up, and every answer read), then the two paced wrk runs at once, with the CPU of each
# whole process and of justgate's audit writer thread read before and after, in an order that alternates
# by round. Appends a line per variant to audit_cost.jsonl.
run_paced_pair() {
  local round="$1" target position=0 script="$BENCH_DIR/wrk/subscribe.sms.paced.lua"
  local -A pid port dir cold writer cpu_before cpu_after writer_before writer_after wrk_pid wrk_status peak records
  local -a order=(justgate justgate-noaudit)
  # The variant started and loaded first measures more than its twin: ~0.3 us per request in A/A runs (the
  # same binary and config in both places, 12 rounds, 9 of them higher first), and about 1 us between the
  # orders in one full run; so the order alternates, and the report gives each order's median as well.
  ((round % 2)) || order=(justgate-noaudit justgate)
  for target in "${order[@]}"; do
    start_target "$target"
    pid[$target]="$TARGET_PID" port[$target]="$TARGET_PORT" dir[$target]="$TARGET_DIR" cold[$target]="$TARGET_COLD_MS"
    BENCH_SITE_KEY="$SITE_KEY" BENCH_PROBE=1 BENCH_PACE_MS=0 timeout 30 \
      wrk -t1 -c1 -d1s -s "$script" "http://127.0.0.1:$TARGET_PORT" >"$TMP_DIR/wrk.audit-cost.$target.$round.probe" 2>&1 || true
  done
  for target in "${order[@]}"; do
    writer[$target]="$(audit_writer_tid "${pid[$target]}")"
    cpu_before[$target]="$(tree_cpu_seconds "${pid[$target]}")"
    writer_before[$target]="$(thread_cpu_seconds "${pid[$target]}" "${writer[$target]}")"
  done
  for target in "${order[@]}"; do
    BENCH_SITE_KEY="$SITE_KEY" BENCH_PACE_MS="$AUDIT_COST_PACE_MS" timeout $(($(duration_seconds "$AUDIT_COST_DURATION") + 30)) \
      wrk -t1 -c"$AUDIT_COST_CONNECTIONS" -d"$AUDIT_COST_DURATION" --latency -s "$script" "http://127.0.0.1:${port[$target]}" \
      >"$TMP_DIR/wrk.audit-cost.$target.$round.run" 2>&1 &
    wrk_pid[$target]=$!
  done
  for target in "${order[@]}"; do
    wrk_status[$target]=0
    wait "${wrk_pid[$target]}" || wrk_status[$target]=$?
  done
  for target in "${order[@]}"; do
    cpu_after[$target]="$(tree_cpu_seconds "${pid[$target]}")"
    writer_after[$target]="$(thread_cpu_seconds "${pid[$target]}" "${writer[$target]}")"
    peak[$target]="$(tree_status_kib VmHWM "${pid[$target]}")"
  done
  for target in "${order[@]}"; do
    TARGET_PID="${pid[$target]}"
    stop_target "$target"
    ((wrk_status[$target] == 0)) || log "wrk exited with ${wrk_status[$target]} for $target audit-cost round $round"
    # Records on disk after the stop (justgate writes every answered request's record before it exits):
    # those of the cold-start polls, the check and the run; the report checks they cover the run.
    records[$target]=null
    if [[ -f "${dir[$target]}/audit/audit.jsonl" ]]; then
      records[$target]="$( (cat "${dir[$target]}"/audit/* 2>/dev/null || true) | wc -l)"   # rotated files too
      rm -rf "${dir[$target]}/audit"   # tens of MB per run; the count is all the report needs
    fi
  done
  for target in "${order[@]}"; do
    position=$((position + 1))
    printf '{"round":%d,"position":%d,"together":true,"target":"%s","scenario":"subscribe.sms.paced","connections":%d,"pace_ms":%d,"duration":"%s","wrk_threads":1,"cold_start_ms":%d,"peak_rss_kib":%d,"cpu_seconds":%s,"writer_found":%s,"writer_cpu_seconds":%s,"audit_records":%s,"result":%s,"probe":%s}\n' \
      "$round" "$position" "$target" "$AUDIT_COST_CONNECTIONS" "$AUDIT_COST_PACE_MS" "$AUDIT_COST_DURATION" \
      "${cold[$target]}" "${peak[$target]}" \
      "$(awk -v a="${cpu_before[$target]}" -v b="${cpu_after[$target]}" 'BEGIN { printf "%.2f", b - a }')" \
      "$([[ -n "${writer[$target]}" ]] && echo true || echo false)" \
      "$(if [[ "${writer_before[$target]}" == null || "${writer_after[$target]}" == null ]]; then echo null; else
        awk -v a="${writer_before[$target]}" -v b="${writer_after[$target]}" 'BEGIN { printf "%.2f", b - a }'; fi)" \
      "${records[$target]}" "$(marked_json BENCH_RESULT "$TMP_DIR/wrk.audit-cost.$target.$round.run")" \
      "$(marked_json BENCH_PROBE "$TMP_DIR/wrk.audit-cost.$target.$round.probe")" >>"$TMP_DIR/audit_cost.jsonl"
  done
}

# --- main ------------------------------------------------------------------------

main() {
  install_missing_tools
  check_inputs
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
  ((IDLE_CONNECTIONS + 500 < $(fd_limit))) || log "warning: open-file limit $(fd_limit) is tight for $IDLE_CONNECTIONS idle connections"

  TMP_DIR="$(mktemp -d /tmp/justgate-bench.XXXXXX)"
  chmod 755 "$TMP_DIR"
  mkdir -p "$TMP_DIR/pids"
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  : >"$TMP_DIR/runs.jsonl"
  : >"$TMP_DIR/idle.jsonl"
  : >"$TMP_DIR/audit_cost.jsonl"

  [[ "$FLOOR" == "1" ]] && build_floor
  [[ " $TARGETS " == *" justgate-redis "* ]] && start_redis
  start_target upstream
  UPSTREAM_PORT="$TARGET_PORT"
  PLAIN_UPSTREAM_PORT="$UPSTREAM_PORT"
  if [[ "$AUDIT_COST" == "only" ]]; then
    log "upstream nginx on 127.0.0.1:$UPSTREAM_PORT; BENCH_AUDIT_COST=only: the audit-cost pass$([[ "$TLS" == "only" ]] && echo " and the deployment shape")"
  else
    log "upstream nginx on 127.0.0.1:$UPSTREAM_PORT; targets: $TARGETS; duration $DURATION x $REPEAT; connections $CONNECTIONS; fd limit $(fd_limit)"
  fi

  local scenario connections target round loopback_scenarios="$SCENARIOS"
  [[ "$TLS" == "only" || "$AUDIT_COST" == "only" ]] && loopback_scenarios=""
  for scenario in $loopback_scenarios; do
    for connections in $CONNECTIONS; do
      for ((round = 1; round <= REPEAT; round++)); do
        for target in $TARGETS; do
          log "$scenario c=$connections $target (round $round/$REPEAT)"
          run_one "$scenario" "$connections" "$target" "$round"
        done
      done
    done
  done

  if [[ "$SKIP_JUSTGATE" != "1" && ("$AUDIT_COST" == "only" || ("$AUDIT_COST" == "1" && "$TLS" != "only")) ]]; then
    run_audit_cost_pass
  fi

  [[ "$TLS" == "0" ]] || run_tls_pass

  if ((IDLE_CONNECTIONS > 0)); then
    for target in nginx haproxy $([[ "$SKIP_JUSTGATE" == "1" ]] || echo justgate); do
      log "idle connections: $IDLE_CONNECTIONS held against $target"
      run_idle "$target"
    done
  fi

  echo '{}' >"$TMP_DIR/keys.json"
  if [[ "$SKIP_JUSTGATE" != "1" && "$KEYS" == "1" ]]; then
    log "rate-limit memory per key (a new client IP in every request)"
    measure_limiter_keys
  fi

  echo '{}' >"$TMP_DIR/mallocs.json"
  if [[ "$SKIP_JUSTGATE" != "1" && "$MALLOCS" == "1" ]]; then
    log "malloc calls per request (perf uprobe)"
    count_mallocs
  fi

  if [[ "$SKIP_JUSTGATE" != "1" && "${BENCH_OUTBOX:-1}" == "1" ]]; then
    log "outbox: deferrals per second of the file backend (group fsync)"
    mkdir -p "$TMP_DIR/outbox"
    bash "$BENCH_DIR/outbox/run.sh" --dir "$TMP_DIR/outbox" | tee "$TMP_DIR/outbox.txt"
  fi

  if [[ "$SKIP_JUSTGATE" != "1" && "${BENCH_OUTBOX_DRAIN:-1}" == "1" ]]; then
    log "outbox: live-call p99 while 100,000 pending entries drain, against no drain"
    bash "$BENCH_DIR/outbox/drain.sh" | tee "$TMP_DIR/outbox-drain.txt"
    log "outbox: the same against an upstream that answers after 20 ms"
    BENCH_DRAIN_DELAY_MS=20 bash "$BENCH_DIR/outbox/drain.sh" | tee "$TMP_DIR/outbox-drain-20ms.txt"
  fi

  mkdir -p "$BENCH_DIR/results"
  python3 "$BENCH_DIR/report.py" \
    --runs "$TMP_DIR/runs.jsonl" --idle "$TMP_DIR/idle.jsonl" --mallocs "$TMP_DIR/mallocs.json" --keys "$TMP_DIR/keys.json" \
    --audit-cost "$TMP_DIR/audit_cost.jsonl" \
    --out-dir "$BENCH_DIR/results" \
    --duration "$DURATION" --repeat "$REPEAT" --connections "$CONNECTIONS" --wrk-threads "$WRK_THREADS" \
    --workers "$WORKERS" --idle-connections "$IDLE_CONNECTIONS" --justgate-bin "$JUSTGATE_BIN" \
    --skip-justgate "$SKIP_JUSTGATE"
}

# Run only when executed: bench/ir/run.sh sources this file for its helpers (upstream config, ports, stopping).
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
