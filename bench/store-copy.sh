#!/usr/bin/env bash
# `xalorra store copy` speed (issue 14): a SQLite store holding ROWS logged prediction rows (100,000-row batches of
# `predict --file`, i.e. blocks of 1,024 rows, as a server stores batches) copied into a throwaway PostgreSQL cluster,
# then copied again (nothing new: the idempotent path). Prints wall/user time and max RSS of both, and `store info`.
#   bench/store-copy.sh     (env: ROWS 1000000, XALORRA_BIN; needs Debian's postgresql, run as root or as a user
#                            that may run initdb)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
resolve_bin
need python3 /usr/bin/time

ROWS="${ROWS:-1000000}"
BATCH=100000
PGBIN="$(dirname "$(compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -1)")"
[[ -x "$PGBIN/initdb" ]] || die "PostgreSQL is not installed (apt-get install postgresql)"
WORK="$(mktemp -d)"
chmod 755 "$WORK"
export XALORRA_HOME="$WORK/home" XALORRA_PREDICTION_LOG=off
mkdir -p "$XALORRA_HOME"
as_pg() { if [[ $EUID -eq 0 ]]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
trap 'as_pg "$PGBIN/pg_ctl -D $WORK/pg/data -m immediate stop" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

python3 -c "
import random
random.seed(1)
with open('$WORK/rows.csv', 'w') as f:
    f.write('a,b,c,d,e\n')
    for i in range($BATCH):
        f.write(','.join(str(round(random.uniform(-100, 100), 3)) for _ in range(5)) + '\n')
"
for _ in $(seq $((ROWS / BATCH))); do "$BIN" predict m --file "$WORK/rows.csv" >/dev/null; done

mkdir -p "$WORK/pg"
echo pw >"$WORK/pw"
[[ $EUID -eq 0 ]] && chown -R postgres:postgres "$WORK/pg" "$WORK/pw"
as_pg "$PGBIN/initdb -D $WORK/pg/data -U postgres --pwfile $WORK/pw -A scram-sha-256 --auth-local trust -E UTF8 \
    --no-sync --no-instructions >/dev/null"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
as_pg "$PGBIN/pg_ctl -D $WORK/pg/data -l $WORK/pg/server.log -w \
    -o '-p $PORT -k $WORK/pg -c listen_addresses=127.0.0.1' start >/dev/null"
URL="postgres://postgres:pw@127.0.0.1:$PORT/postgres?sslmode=disable"

echo "store: $ROWS rows, $(( $(stat -c %s "$XALORRA_HOME/xalorra.db") / 1000000 )) MB"
/usr/bin/time -f "first copy: %e s wall, %U s user, %S s sys, %M KB max RSS" \
    "$BIN" store copy --from "sqlite:$XALORRA_HOME/xalorra.db" --to "$URL" >/dev/null
/usr/bin/time -f "second copy (nothing new): %e s wall" \
    "$BIN" store copy --from "sqlite:$XALORRA_HOME/xalorra.db" --to "$URL" >/dev/null
XALORRA_DATABASE_URL="$URL" "$BIN" store info | tail -n +1
