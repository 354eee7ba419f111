#!/usr/bin/env bash
# Instructions (Ir) and malloc calls per request under callgrind: the libcurl floor, justgate bare and
# justgate full, each on ONE keep-alive connection sending subscribe.sms to the plain-HTTP nginx upstream
# of bench/run.sh. Instruction counts hardly move between runs (unlike CPU time on a shared box), so every
# change on the hot path can show its delta. See bench/README.md, "Instruction counts".
#
# Usage: make bench-ir   (or: bash bench/ir/run.sh; needs a release build)
# Environment:
#   JUSTGATE_BIN       justgate binary (default .build/release/justgate); a copy without debug info is measured
#   BENCH_IR_TARGETS   "floor bare full" (default) or a subset
#   BENCH_IR_WARMUP    requests before the counters are zeroed (default 300)
#   BENCH_IR_REQUESTS  requests counted (default 2000)
#   BENCH_KEEP_TMP=1   keep the temporary folder (configs, logs, callgrind dumps)
# Writes bench/results/ir-latest.md and bench/results/ir-latest.json.
set -euo pipefail

IR_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# bench/run.sh's helpers: the upstream's nginx config, free_port, wait_until_answering, stop_tree, cleanup, the
# bench credentials. Sourcing it runs nothing (its main runs only when it is executed).
# shellcheck source=../run.sh
source "$IR_DIR/../run.sh"

IR_TARGETS="${BENCH_IR_TARGETS:-floor bare full}"
IR_WARMUP="${BENCH_IR_WARMUP:-300}"
IR_REQUESTS="${BENCH_IR_REQUESTS:-2000}"
WORKERS=1                 # the upstream nginx; justgate and the floor get one event loop each, below
READY_TIMEOUT_MS=180000   # startup under valgrind takes seconds, not milliseconds

check_ir_inputs() {
  local target tool
  for target in $IR_TARGETS; do
    [[ "$target" =~ ^(floor|bare|full)$ ]] || die "unknown BENCH_IR_TARGETS entry '$target' (known: floor bare full)"
  done
  for tool in valgrind callgrind_control nginx curl python3 objcopy setarch ss; do
    command -v "$tool" >/dev/null || die "bench-ir needs $tool (apt install valgrind nginx curl python3 binutils)"
  done
  [[ "$IR_WARMUP" =~ ^[0-9]+$ ]] || die "BENCH_IR_WARMUP '$IR_WARMUP' must be a whole number"
  [[ "$IR_REQUESTS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_IR_REQUESTS '$IR_REQUESTS' must be a positive whole number"
  if [[ " $IR_TARGETS " == *" bare "* || " $IR_TARGETS " == *" full "* ]] && [[ ! -x "$JUSTGATE_BIN" ]]; then
    die "justgate binary '$JUSTGATE_BIN' not found: run 'swift build -c release --product justgate' or set JUSTGATE_BIN"
  fi
}

# justgate bare: no rate-limit policy, audit log off, request log off. justgate full: the site-wide policy
# and a per-number policy counted in memory, the HMAC-chained audit log, the request log, the admin listener
# (metrics). Trace context and metrics counting are on in both (they cannot be turned off). One event loop,
# so the count is one loop's.
write_ir_justgate_conf() {
  local dir="$1" port="$2" variant="$3" key_sha256
  key_sha256="$(printf '%s' "$SITE_KEY" | sha256sum | cut -d' ' -f1)"
  {
    printf 'listen: 127.0.0.1:%s\n' "$port"
    [[ "$variant" == "full" ]] && printf 'admin_listen: 127.0.0.1:%s\n' "$(free_port)"
    cat <<EOF
upstream:
  url: http://127.0.0.1:$UPSTREAM_PORT
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
EOF
    if [[ "$variant" == "full" ]]; then
      cat <<EOF
    limits:
      - { name: bench-site, scope: site, rate: 1000000/s, burst: 1000000 }
      - { name: sms-per-number, scope: number, operations: [subscribe.sms], rate: 1000000/s, burst: 1000000 }
audit:
  enabled: true
  path: $dir/audit/audit.jsonl
  hmac_key: { env: JUST_AUDIT_KEY_BENCH }
log:
  requests: all
EOF
    else
      cat <<EOF
audit:
  enabled: false
  path: $dir/audit/audit.jsonl
log:
  requests: none
EOF
    fi
  } >"$dir/justgate.yaml"
}

# Starts one target under callgrind on a new port and waits until it answers; sets TARGET_PID, TARGET_PORT,
# TARGET_DIR. Each thread's counts go to their own file (--separate-threads), so the audit writer is told apart.
start_ir_target() {
  local name="$1" dir port spawned
  dir="$(mktemp -d "$TMP_DIR/ir-$name.XXXX")"
  chmod 755 "$dir"
  port="$(free_port)"
  # setarch -R: no address randomisation, so address-keyed tables (the Swift runtime's metadata caches) probe alike.
  local -a callgrind=(setarch "$(uname -m)" -R valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$dir/callgrind.out"
    --log-file="$dir/valgrind.log")
  spawned="$(now_ms)"
  case "$name" in
    floor)
      "${callgrind[@]}" "$FLOOR_BIN" "$port" "http://127.0.0.1:$UPSTREAM_PORT" "$UPSTREAM_TOKEN" 1 >"$dir/stdout.log" 2>&1 &
      ;;
    bare | full)
      write_ir_justgate_conf "$dir" "$port" "$name"
      # SWIFT_DETERMINISTIC_HASHING: Swift seeds Set and Dictionary hashing afresh in every process, so probe
      # lengths (string compares in Set<String>.contains, for one) moved the count by ~1% between runs.
      SWIFT_DETERMINISTIC_HASHING=1 JUST_TOKEN_BENCH="$UPSTREAM_TOKEN" JUST_AUDIT_KEY_BENCH="bench-audit-key-0123456789abcdef" \
        "${callgrind[@]}" "$IR_JUSTGATE" serve --config "$dir/justgate.yaml" >"$dir/stdout.log" 2>&1 &
      ;;
  esac
  TARGET_PID=$!
  echo "$TARGET_PID" >"$TMP_DIR/pids/ir-$name.pid"
  TARGET_PORT="$port"
  TARGET_DIR="$dir"
  wait_until_listening "$name" "$dir" "$spawned"
}

# Waits until the target's port is listening, read from the kernel's socket table (ss) rather than by sending
# requests as bench/run.sh does: how many requests land during a startup of varying length would change the
# heap the measured requests find, and with it the count (by ~1% in trials).
wait_until_listening() {
  local name="$1" dir="$2" spawned="$3"
  until [[ -n "$(ss -Htln "sport = :$TARGET_PORT" 2>/dev/null)" ]]; do
    if ! kill -0 "$TARGET_PID" 2>/dev/null; then
      cat "$dir"/*.log >&2 || true
      die "$name exited during startup (its output is above; BENCH_KEEP_TMP=1 keeps its config)"
    fi
    (($(now_ms) - spawned <= READY_TIMEOUT_MS)) || die "$name did not listen on 127.0.0.1:$TARGET_PORT within ${READY_TIMEOUT_MS} ms"
    sleep 0.05
  done
}

# One target: start it, drive warm-up and measured requests through drive.py (which zeroes and dumps the
# counters), stop it. The measured dump is part 1: callgrind.out.1-<thread>.
measure_ir_target() {
  local name="$1" audit_dir=()
  start_ir_target "$name"
  [[ "$name" == "full" ]] && audit_dir=(--audit-dir "$TARGET_DIR/audit")
  log "$name: under callgrind (pid $TARGET_PID), $IR_WARMUP warm-up + $IR_REQUESTS measured requests"
  timeout 1800 python3 "$IR_DIR/drive.py" --port "$TARGET_PORT" --pid "$TARGET_PID" --site-key "$SITE_KEY" \
    --warmup "$IR_WARMUP" --requests "$IR_REQUESTS" "${audit_dir[@]}" >"$TARGET_DIR/drive.json" ||
    die "$name: the client failed (logs in $TARGET_DIR; BENCH_KEEP_TMP=1 keeps them)"
  stop_tree "$TARGET_PID"
  rm -f "$TMP_DIR/pids/ir-$name.pid"
  printf '%s %s\n' "$name" "$TARGET_DIR" >>"$TMP_DIR/ir-targets.txt"
}

main_ir() {
  check_ir_inputs
  TMP_DIR="$(mktemp -d /tmp/justgate-bench-ir.XXXXXX)"
  chmod 755 "$TMP_DIR"
  mkdir -p "$TMP_DIR/pids"
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  : >"$TMP_DIR/ir-targets.txt"

  [[ " $IR_TARGETS " == *" floor "* ]] && build_floor
  if [[ " $IR_TARGETS " == *" bare "* || " $IR_TARGETS " == *" full "* ]]; then
    # valgrind 3.19 cannot read the DWARF 5 debug info Swift writes; the symbol table stays, so functions keep
    # their names in the dumps.
    IR_JUSTGATE="$TMP_DIR/justgate"
    objcopy --strip-debug "$JUSTGATE_BIN" "$IR_JUSTGATE"
  fi
  start_target upstream
  UPSTREAM_PORT="$TARGET_PORT"
  log "upstream nginx on 127.0.0.1:$UPSTREAM_PORT; targets: $IR_TARGETS"

  local target
  for target in $IR_TARGETS; do
    measure_ir_target "$target"
  done

  mkdir -p "$BENCH_DIR/results"
  python3 "$IR_DIR/report.py" --targets "$TMP_DIR/ir-targets.txt" --out-dir "$BENCH_DIR/results" \
    --justgate-bin "$JUSTGATE_BIN" --floor-bin "${FLOOR_BIN:-}"
}

main_ir "$@"
