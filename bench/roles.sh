#!/usr/bin/env bash
# pgpipe-roles --map through a pipe, against cat and GNU sed, side by side on
# the same dump in one run; prints the ratios and pgpipe-roles' peak RSS.
#
#   bench/roles.sh DUMPFILE [RUNS]
#
# Each command reads DUMPFILE through a pipe (cat DUMPFILE | CMD > /dev/null)
# RUNS times (default 3); the best wall time of each is compared.
set -euo pipefail

dump=${1:?usage: bench/roles.sh DUMPFILE [RUNS]}
runs=${2:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
roles=${PGPIPE_ROLES:-$here/target/x86_64-unknown-linux-gnu/release/pgpipe-roles}
[ -x "$roles" ] || { echo "bench/roles.sh: build first: cargo build --release" >&2; exit 2; }

best() { # best wall seconds of "$@" reading the dump through a pipe
    local b="" t s e
    for _ in $(seq 1 "$runs"); do
        s=$(date +%s.%N)
        cat "$dump" | "$@" > /dev/null
        e=$(date +%s.%N)
        t=$(echo "$e - $s" | bc -l)
        if [ -z "$b" ] || [ "$(echo "$t < $b" | bc -l)" = 1 ]; then b=$t; fi
    done
    echo "$b"
}

size=$(stat -c %s "$dump")
t_cat=$(best cat)
t_sed=$(best sed 's/OWNER TO a/OWNER TO b/')
t_roles=$(best "$roles" --no-progress --map a=b)
rss=$( { cat "$dump" | /usr/bin/time -f %M "$roles" --no-progress --map a=b > /dev/null; } 2>&1 | tail -1)

mib() { echo "scale=1; $size / 1048576 / $1" | bc -l; }
printf 'dump: %s (%d MiB)\n' "$dump" $((size >> 20))
printf 'cat:          %6.2f s  %7s MiB/s\n' "$t_cat" "$(mib "$t_cat")"
printf 'sed:          %6.2f s  %7s MiB/s\n' "$t_sed" "$(mib "$t_sed")"
printf 'pgpipe-roles: %6.2f s  %7s MiB/s\n' "$t_roles" "$(mib "$t_roles")"
printf 'pgpipe-roles / cat: %.3f (limit 1.25)\n' "$(echo "$t_roles / $t_cat" | bc -l)"
printf 'pgpipe-roles / sed: %.3f (limit 1.00)\n' "$(echo "$t_roles / $t_sed" | bc -l)"
printf 'pgpipe-roles peak RSS: %d KiB (limit 32768)\n' "$rss"
