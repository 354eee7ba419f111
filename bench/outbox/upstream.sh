#!/usr/bin/env bash
# Sourced by drain.sh and cost.sh: starts nginx on 127.0.0.1 as the upstream stand-in (fixed 200 answers, 401
# without the token; a delay of DELAY_MS > 0 through Debian's echo module). Needs WORK (a directory) and
# DELAY_MS; sets PORT, TOKEN and NGINX_PID. The caller stops it (kill "$NGINX_PID").
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { echo "bench/outbox needs nginx (apt-get install nginx)" >&2; exit 1; }
start_nginx_upstream() {
    local nginx module answer delay
    nginx="$(command -v nginx || echo /usr/sbin/nginx)"
    PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    TOKEN="outbox-bench-upstream-token"
    if [ "$DELAY_MS" -gt 0 ]; then
        module="load_module /usr/lib/nginx/modules/ngx_http_echo_module.so;"
        delay="$(awk -v ms="$DELAY_MS" 'BEGIN { printf "%.3f", ms / 1000 }')"
        answer="echo_sleep $delay; echo -n \"Subscription created\";"
    else
        module=""
        answer="return 200 \"Subscription created\";"
    fi
    mkdir -p "$WORK/nginx"
    cat >"$WORK/nginx/nginx.conf" <<CONF
$module
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
    location / { $answer }
  }
}
CONF
    "$nginx" -p "$WORK/nginx" -e "$WORK/nginx/error.log" -c "$WORK/nginx/nginx.conf" >"$WORK/nginx/stdout.log" 2>&1 &
    NGINX_PID=$!
    for _ in $(seq 50); do
        (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
        sleep 0.1
    done
}
