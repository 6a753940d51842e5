#!/usr/bin/env bash
# Several `xalorra serve` instances on one throwaway PostgreSQL database, behind Debian's nginx (round robin), all on
# loopback: issue 14's setup, for a person to try.
#
#   scripts/cluster.sh [start]   start everything, print the URL, and stay in the foreground (Ctrl-C stops it all)
#   scripts/cluster.sh stop      stop a cluster started from another terminal
#
# Everything lives in one temporary directory (the database cluster, the instances' homes, nginx's configuration,
# logs and pid files) that stopping removes; no system file is touched. Run as root, PostgreSQL runs as the
# `postgres` user (initdb refuses root) and nginx's workers as `www-data`.
# Needs Debian's `postgresql` and `nginx` (apt-get install -y postgresql nginx) and python3 (free ports).
# Environment: XALORRA_BIN the binary (default .build/release/xalorra, else .build/debug/xalorra); INSTANCES (3);
# XALORRA_SERVE_ARGS extra `serve` arguments (e.g. "--rate-limit off"); XALORRA_CLUSTER_STATE where the running
# cluster is recorded for `stop` (default ${TMPDIR:-/tmp}/xalorra-cluster.state).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
state=${XALORRA_CLUSTER_STATE:-${TMPDIR:-/tmp}/xalorra-cluster.state}
instances=${INSTANCES:-3}

die() { echo "cluster.sh: $*" >&2; exit 2; }

pg_bin() {
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n -r); do
        [ -x "$dir/initdb" ] && { echo "$dir"; return; }
    done
    die "PostgreSQL is not installed (apt-get install -y postgresql)"
}

nginx_bin() {
    command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } \
        || die "nginx is not installed (apt-get install -y nginx)"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Runs a command as the `postgres` user when this is root.
as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Stops what directory $1 records (pid files, the database cluster) and removes it. Safe to run twice.
teardown() {
    local dir=$1 pid
    [ -d "$dir" ] || return 0
    for pid in $(cat "$dir/nginx.pid" "$dir"/serve-*.pid 2>/dev/null); do kill -TERM "$pid" 2>/dev/null || true; done
    for _ in $(seq 50); do
        local alive=0
        for pid in $(cat "$dir/nginx.pid" "$dir"/serve-*.pid 2>/dev/null); do
            kill -0 "$pid" 2>/dev/null && alive=1
        done
        [ $alive = 0 ] && break
        sleep 0.1
    done
    for pid in $(cat "$dir/nginx.pid" "$dir"/serve-*.pid 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    if [ -f "$dir/pg/postmaster.pid" ]; then
        as_pg "$(pg_bin)/pg_ctl" -D "$dir/pg" -m fast -w stop >/dev/null 2>&1 \
            || as_pg "$(pg_bin)/pg_ctl" -D "$dir/pg" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
}

stop_cluster() {
    [ -f "$state" ] || die "no cluster is running (no $state)"
    local dir pid
    read -r dir pid <"$state"
    if kill -0 "$pid" 2>/dev/null; then
        # A file the foreground loop looks for every second (a shell started with SIGTERM ignored cannot trap it),
        # and SIGTERM for the others.
        touch "$dir/stop" 2>/dev/null || true
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    teardown "$dir"
    rm -f "$state"
    echo "cluster stopped"
}

start_cluster() {
    if [ -f "$state" ]; then
        local other_dir other_pid
        read -r other_dir other_pid <"$state"
        kill -0 "$other_pid" 2>/dev/null && die "a cluster is already running (pid $other_pid): scripts/cluster.sh stop"
        teardown "$other_dir"
    fi
    local bin=${XALORRA_BIN:-}
    if [ -z "$bin" ]; then
        bin=$root/.build/release/xalorra
        [ -x "$bin" ] || bin=$root/.build/debug/xalorra
    fi
    [ -x "$bin" ] || die "no xalorra binary at $bin (swift build, or set XALORRA_BIN)"
    local pg nginx
    pg=$(pg_bin)
    nginx=$(nginx_bin)

    dir=$(mktemp -d "${TMPDIR:-/tmp}/xalorra-cluster-XXXXXX")
    chmod 755 "$dir"
    trap 'teardown "$dir"; rm -f "$state"; exit 0' INT TERM
    trap 'teardown "$dir"; rm -f "$state"' EXIT
    echo "$dir $$" >"$state"

    # PostgreSQL: its own cluster on a free loopback port, a random password over TCP.
    local password pg_port
    password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    mkdir "$dir/pg"
    printf '%s' "$password" >"$dir/pgpass"
    [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$dir/pg" "$dir/pgpass" && chmod 777 "$dir"
    as_pg "$pg/initdb" -D "$dir/pg" -U postgres --pwfile "$dir/pgpass" -A scram-sha-256 --auth-local trust -E UTF8 \
        --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    pg_port=$(free_port)
    as_pg "$pg/pg_ctl" -D "$dir/pg" -l "$dir/postgres.log" -w -t 60 \
        -o "-p $pg_port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start </dev/null >/dev/null 2>&1 \
        || { cat "$dir/postgres.log" >&2; die "PostgreSQL did not start"; }
    as_pg "$pg/psql" -h "$dir" -p "$pg_port" -U postgres -d postgres -q -c "CREATE DATABASE xalorra" >/dev/null
    local url="postgres://postgres:$password@127.0.0.1:$pg_port/xalorra?sslmode=disable"
    local secret
    secret=$(head -c 32 /dev/urandom | base64 | tr -d '/+=')

    # The instances: one database, one SECRET_KEY, a home each (its text log and settings).
    local ports=() i
    for i in $(seq "$instances"); do
        mkdir -p "$dir/home-$i"
        # shellcheck disable=SC2086
        XALORRA_HOME=$dir/home-$i SECRET_KEY=$secret XALORRA_DATABASE_URL=$url \
            "$bin" serve --host 127.0.0.1 --port 0 ${XALORRA_SERVE_ARGS:-} </dev/null >"$dir/serve-$i.log" 2>&1 &
        echo $! >"$dir/serve-$i.pid"
    done
    for i in $(seq "$instances"); do
        local port=""
        for _ in $(seq 300); do
            port=$(grep -o 'serving http://127\.0\.0\.1:[0-9]*' "$dir/serve-$i.log" 2>/dev/null | head -1 | sed 's/.*://') || true
            [ -n "$port" ] && break
            kill -0 "$(cat "$dir/serve-$i.pid")" 2>/dev/null || { cat "$dir/serve-$i.log" >&2; die "instance $i exited"; }
            sleep 0.1
        done
        [ -n "$port" ] || { cat "$dir/serve-$i.log" >&2; die "instance $i did not start"; }
        ports+=("$port")
    done

    # nginx in front, round robin, keep-alive to the instances; streams (SSE, WebSocket) pass through unbuffered.
    local nginx_port upstreams="" user=""
    nginx_port=$(free_port)
    for i in "${ports[@]}"; do upstreams+="        server 127.0.0.1:$i;"$'\n'; done
    [ "$(id -u)" = 0 ] && user="user www-data;"
    mkdir -m 777 "$dir/nginx"
    cat >"$dir/nginx.conf" <<EOF
$user
worker_processes auto;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $dir/nginx/body;
    proxy_temp_path $dir/nginx/proxy;
    fastcgi_temp_path $dir/nginx/fastcgi;
    uwsgi_temp_path $dir/nginx/uwsgi;
    scgi_temp_path $dir/nginx/scgi;
    client_max_body_size 0;
    map \$http_upgrade \$connection_upgrade { default upgrade; '' ''; }
    upstream xalorra {
$upstreams        keepalive 64;
    }
    server {
        listen 127.0.0.1:$nginx_port;
        location / {
            proxy_pass http://xalorra;
            proxy_http_version 1.1;
            proxy_set_header Host \$host;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection \$connection_upgrade;
            proxy_set_header X-Forwarded-For \$remote_addr;
            proxy_buffering off;
            proxy_request_buffering off;
            proxy_read_timeout 1h;
        }
    }
}
EOF
    "$nginx" -e "$dir/nginx-error.log" -c "$dir/nginx.conf" -p "$dir/nginx" -t >/dev/null 2>&1 \
        || { "$nginx" -e "$dir/nginx-error.log" -c "$dir/nginx.conf" -p "$dir/nginx" -t; die "bad nginx configuration"; }
    "$nginx" -e "$dir/nginx-error.log" -c "$dir/nginx.conf" -p "$dir/nginx" </dev/null
    for _ in $(seq 100); do [ -s "$dir/nginx.pid" ] && break; sleep 0.1; done
    [ -s "$dir/nginx.pid" ] || { cat "$dir/nginx-error.log" >&2; die "nginx did not start"; }

    cat <<EOF
xalorra cluster: $instances instances on one PostgreSQL database, nginx round robin in front (all on loopback)
  nginx:     http://127.0.0.1:$nginx_port
  instances: $(for p in "${ports[@]}"; do printf 'http://127.0.0.1:%s ' "$p"; done)
  files:     $dir (logs: serve-N.log, postgres.log, nginx-error.log)
  the CLI on the same store and secret:
    export XALORRA_DATABASE_URL='$url' SECRET_KEY='$secret'
    $bin users add alice --email alice@example.com --name Alice --role admin
  stop: Ctrl-C here, or scripts/cluster.sh stop
URL: http://127.0.0.1:$nginx_port
EOF
    # Stay until stopped (the traps clean up); an instance or nginx dying is reported, the rest keep running.
    while [ ! -e "$dir/stop" ]; do
        for i in $(seq "$instances"); do
            if [ -f "$dir/serve-$i.pid" ] && ! kill -0 "$(cat "$dir/serve-$i.pid")" 2>/dev/null; then
                echo "instance $i exited (see $dir/serve-$i.log)" >&2
                mv "$dir/serve-$i.pid" "$dir/serve-$i.exited"
            fi
        done
        sleep 1 &
        wait $! || true
    done
}

case "${1:-start}" in
    start) start_cluster ;;
    stop) stop_cluster ;;
    *) die "usage: scripts/cluster.sh [start|stop]" ;;
esac
